// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "judgepanel",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "JudgeStats", targets: ["JudgeStats"]),
        .library(name: "JudgePanel", targets: ["JudgePanel"]),
        .library(name: "JudgePanelTesting", targets: ["JudgePanelTesting"]),
        .executable(name: "judgepanel", targets: ["JudgePanelCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        // `swift package generate-documentation --enable-experimental-combined-documentation --target JudgePanel
        // --target JudgePanelCore ...` (every layer, see README): a command plugin, built only when run.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        // The response cache's store: one SQLite database per cache directory (links the system libsqlite3; Debian
        // package libsqlite3-dev, in .ci/run's list).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // `judgepanel ui`: the local web app (Explore, Label).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .target(name: "JudgeStats"),
        // The JudgePanel library in layers, along the flow; each target may import only the ones above it here,
        // and `swift build --explicit-target-dependency-import-check error` (scripts/check-layers.sh, .ci/run)
        // makes any other import a build error.
        // Items, rubrics, panel files, vote/verdict records, importers, JSON/YAML and support code.
        .target(
            name: "JudgePanelCore",
            dependencies: [
                "JudgeStats", .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Provider wire formats, request building, HTTP transports, rate limits, the response cache, llama-server.
        .target(
            name: "JudgePanelProviders",
            dependencies: [
                "JudgeStats", "JudgePanelCore", .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // One judge call: prompts, the call executor, answer parsing, vote journal, run counters.
        .target(name: "JudgePanelJudging", dependencies: ["JudgeStats", "JudgePanelCore", "JudgePanelProviders"]),
        // Votes to verdicts: reconciling a judge's votes, the Aggregator (every method), weights, call policies.
        .target(
            name: "JudgePanelAggregation",
            dependencies: ["JudgeStats", "JudgePanelCore", .product(name: "Yams", package: "Yams")]
        ),
        // Meta-evaluation, planning, ranking, probe metrics, checklist analysis.
        .target(
            name: "JudgePanelAnalysis",
            dependencies: ["JudgeStats", "JudgePanelCore", "JudgePanelJudging", "JudgePanelAggregation"]
        ),
        // Text and HTML reports, run directories and their lock.
        .target(
            name: "JudgePanelReports",
            dependencies: ["JudgeStats", "JudgePanelCore", "JudgePanelAggregation", "JudgePanelAnalysis"]
        ),
        // Workflows (score, merge, probe, checklist generation, batch) and the embedding API (PanelRunner); it
        // re-exports the layers below, so `import JudgePanel` is all an embedder writes.
        .target(
            name: "JudgePanel",
            dependencies: [
                "JudgeStats", "JudgePanelCore", "JudgePanelProviders", "JudgePanelJudging", "JudgePanelAggregation",
                "JudgePanelAnalysis", "JudgePanelReports",
            ]
        ),
        .target(
            name: "JudgePanelTesting",
            dependencies: ["JudgePanel", .product(name: "FlyingFox", package: "FlyingFox")]
        ),
        // `judgepanel ui` / `label`: the web app over a run directory (Hummingbird), above the workflows.
        .target(
            name: "JudgePanelUI",
            dependencies: [
                "JudgeStats", "JudgePanel", "JudgePanelReports", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The `judgepanel` command (product name); its folder is Sources/JudgePanelCLI so that no two source folders
        // differ only by case (Sources/JudgePanel), which a case-insensitive disk cannot hold.
        .executableTarget(
            name: "JudgePanelCLI",
            dependencies: [
                "JudgePanel", "JudgePanelUI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "StatsBench", dependencies: ["JudgeStats"], path: "Benchmarks/StatsBench"),
        .executableTarget(name: "BatchBench", dependencies: ["JudgePanel"], path: "Benchmarks/BatchBench"),
        .executableTarget(name: "CacheBench", dependencies: ["JudgePanel"], path: "Benchmarks/CacheBench"),
        .executableTarget(
            name: "PanelBench", dependencies: ["JudgePanel", "JudgePanelTesting"], path: "Benchmarks/PanelBench"),
        .testTarget(name: "JudgeStatsTests", dependencies: ["JudgeStats"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "JudgePanelTests",
            dependencies: [
                "JudgePanel", "JudgePanelTesting", "JudgeStats", "JudgePanelCore", "JudgePanelProviders",
                "JudgePanelJudging", "JudgePanelAggregation", "JudgePanelAnalysis", "JudgePanelReports", "JudgePanelUI",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Golden"]  // read through #filePath, so a golden update is a source edit
        ),
    ],
    swiftLanguageModes: [.v6]
)
