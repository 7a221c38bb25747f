// The grammar of a channel name, shared by the events that are sent on channels and the hooks that
// listen to them: a hook can only ever match a channel an event may carry.

/** 1 to 128 letters, digits, '.', '_', ':' or '-'. */
export const CHANNEL_NAME = /^[A-Za-z0-9._:-]{1,128}$/;
