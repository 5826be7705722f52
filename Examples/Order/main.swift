import OtterExamples

// order-example: the order trace with events. Run: swift run order-example --server-url http://127.0.0.1:8082/
// The logic lives in OtterExamples, shared with `otter demo`, so the two cannot drift apart.
await OrderCommand.main(nil)
