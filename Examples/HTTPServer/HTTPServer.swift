import OtterExamples

// http-server: the seed's instrumented server. Run: swift run http-server --port 8082
// The logic lives in OtterExamples, shared with `otter demo`, so the two cannot drift apart. `@main` on the
// command itself runs its asynchronous entry point (a top-level `await HTTPServerCommand.main()` picks the synchronous one
// and stops at start).
@main
extension HTTPServerCommand {}
