// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "judgepanel",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "JudgeStats", targets: ["JudgeStats"]),
        .library(name: "JudgePanel", targets: ["JudgePanel"]),
        .library(name: "JudgePanelTesting", targets: ["JudgePanelTesting"]),
        .executable(name: "judgepanel", targets: ["judgepanel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        // `swift package generate-documentation --target JudgePanel`: a command plugin, built only when run.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
    ],
    targets: [
        .target(name: "JudgeStats"),
        .target(
            name: "JudgePanel",
            dependencies: [
                "JudgeStats", .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "JudgePanelTesting",
            dependencies: ["JudgePanel", .product(name: "FlyingFox", package: "FlyingFox")]
        ),
        .executableTarget(
            name: "judgepanel",
            dependencies: [
                "JudgePanel", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "StatsBench", dependencies: ["JudgeStats"], path: "Benchmarks/StatsBench"),
        .executableTarget(name: "BatchBench", dependencies: ["JudgePanel"], path: "Benchmarks/BatchBench"),
        .executableTarget(name: "PanelBench", dependencies: ["JudgePanel", "JudgePanelTesting"], path: "Benchmarks/PanelBench"),
        .testTarget(name: "JudgeStatsTests", dependencies: ["JudgeStats"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "JudgePanelTests",
            dependencies: ["JudgePanel", "JudgePanelTesting", "JudgeStats", .product(name: "Logging", package: "swift-log")],
            exclude: ["Golden"]  // read through #filePath, so a golden update is a source edit
        ),
    ],
    swiftLanguageModes: [.v6]
)
