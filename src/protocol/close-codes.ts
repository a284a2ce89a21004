/** WebSocket close codes of docs/protocol.md, "Connection lifecycle and close codes". */
export const CloseCode = {
  /** A frame shorter than 8 bytes, or with an unknown `kind`. */
  protocolError: 1002,
  /** A text message. */
  unsupportedData: 1003,
  /** Too many requests in flight, or a request before Handshake. */
  policyViolation: 1008,
  /** A frame larger than `maxFrameBytes`. */
  messageTooBig: 1009,
  /** An internal error on the broker (a bug; logged). */
  internalError: 1011,
  /** Handshake asked for a protocol version this broker does not speak. */
  unsupportedProtocolVersion: 4001,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
