// Imported first by the CLI (before onnxruntime-node loads): ONNX Runtime's Linux/macOS builds carry
// a telemetry client (since 1.25) that writes a device id and an event cache under ~/.cache, or into
// the working folder when HOME is not writable (a ":memory:.ses" file in a cluster job's submit
// folder), and tries to upload from compute nodes. Clinical videos are processed here: off unless the
// user sets ORT_DISABLE_TELEMETRY=0 themselves.
process.env.ORT_DISABLE_TELEMETRY ??= '1';
