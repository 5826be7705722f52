// swift-tools-version:6.1
import Foundation
import PackageDescription

// A path dependency is named after its folder, which differs between checkouts (CI clones anywhere).
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent

// Benchmarks live in their own package so that the main package never depends on swift-otel (the baseline)
// or on package-benchmark. Run: scripts/bench.sh, or from this folder
//   swift package --allow-writing-to-package-directory benchmark --format markdown --no-progress
let package = Package(
    name: "OtterBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "SpanHotPath",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Otter", package: mainPackage),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/SpanHotPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "OTLPExport",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Otter", package: mainPackage),
                .product(name: "OtterOTLP", package: mainPackage),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OtterViewer", package: mainPackage),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Benchmarks/OTLPExport",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Not a package-benchmark suite: the workloads that scripts/callgrind.py counts instructions and mallocs of.
        .executableTarget(
            name: "HotPathProbe",
            dependencies: [
                .product(name: "Otter", package: mainPackage),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "HotPathProbe"
        ),
        // Not a package-benchmark suite: the server that scripts/wrk.sh loads.
        .executableTarget(
            name: "HelloServer",
            dependencies: [
                .product(name: "Otter", package: mainPackage),
                .product(name: "OtterOTLP", package: mainPackage),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "HelloServer"
        ),
    ]
)
