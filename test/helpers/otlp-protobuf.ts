// Reads the spans out of an OTLP/HTTP protobuf traces request (ExportTraceServiceRequest), for the
// test collector. By hand: the protobuf libraries need the .proto files, and these few fields of
// opentelemetry/proto/collector/trace/v1 are all a test reads.
export interface DecodedSpan {
  name: string;
  traceId: string;
  spanId: string;
  service: string | undefined;
}

type Field = { number: number; bytes: Buffer | null };

/** The fields of one message: length-delimited ones with their bytes, the others (varints, fixed) skipped. */
function fields(message: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = message[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < message.length) {
    const key = varint();
    const wire = key & 7;
    const number = Math.floor(key / 8);
    if (wire === 0) varint();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const length = varint();
      out.push({ number, bytes: message.subarray(at, at + length) });
      at += length;
    } else throw new Error(`unexpected wire type ${wire}`);
    if (wire !== 2) out.push({ number, bytes: null });
  }
  return out;
}

const messages = (message: Buffer, number: number): Buffer[] => fields(message).filter((f) => f.number === number && f.bytes).map((f) => f.bytes!);

export function decodeTraceRequest(body: Buffer): DecodedSpan[] {
  const spans: DecodedSpan[] = [];
  for (const resourceSpans of messages(body, 1)) {
    let service: string | undefined;
    for (const resource of messages(resourceSpans, 1)) {
      for (const attribute of messages(resource, 1)) {
        const key = messages(attribute, 1)[0]?.toString('utf8');
        const value = messages(attribute, 2)[0];
        if (key === 'service.name' && value) service = messages(value, 1)[0]?.toString('utf8');
      }
    }
    for (const scopeSpans of messages(resourceSpans, 2)) {
      for (const span of messages(scopeSpans, 2)) {
        spans.push({
          traceId: messages(span, 1)[0]?.toString('hex') ?? '',
          spanId: messages(span, 2)[0]?.toString('hex') ?? '',
          name: messages(span, 5)[0]?.toString('utf8') ?? '',
          service,
        });
      }
    }
  }
  return spans;
}
