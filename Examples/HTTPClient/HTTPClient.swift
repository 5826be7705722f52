import OtterExamples

// http-client: GETs the server once with tracing. Run: swift run http-client --url http://127.0.0.1:8082/
// The logic lives in OtterExamples, shared with `otter demo`, so the two cannot drift apart. `@main` on the
// command itself runs its asynchronous entry point (a top-level `await HTTPClientCommand.main()` picks the synchronous one
// and stops at start).
@main
extension HTTPClientCommand {}
