/** The admin token every benchmarked Switchyard is started with (127.0.0.1 only, throwaway data). */
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
