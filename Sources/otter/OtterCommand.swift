import ArgumentParser
import OtterExamples

@main
struct OtterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otter",
        abstract: "Otter: distributed tracing for Swift.",
        subcommands: [
            DemoCommand.self, ViewerCommand.self, DiffCommand.self, MCPCommand.self, HTTPServerCommand.self, HTTPClientCommand.self,
            OrderCommand.self,
        ])
}
