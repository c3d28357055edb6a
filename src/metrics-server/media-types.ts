/** Media type of the protobuf answer, and what a client's `Accept` must contain to get it. */
export const PROTOBUF_MEDIA_TYPE = 'application/protobuf';
