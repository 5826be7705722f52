import OtterExamples

// http-server: the seed's instrumented server. Run: swift run http-server --port 8082
// The logic lives in OtterExamples, shared with `otter demo`, so the two cannot drift apart.
await HTTPServerCommand.main(nil)
