import OtterExamples

// order-example: the order trace with events. Run: swift run order-example --server-url http://127.0.0.1:8082/
// The logic lives in OtterExamples, shared with `otter demo`, so the two cannot drift apart. `@main` on the
// command itself runs its asynchronous entry point (a top-level `await OrderCommand.main()` picks the synchronous one
// and stops at start).
@main
extension OrderCommand {}
