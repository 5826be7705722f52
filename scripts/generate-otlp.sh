#!/usr/bin/env bash
# Regenerates Sources/OtterOTLP/Generated from the OTLP .proto files in Protos/ (committed, Apache-2.0).
# Needs protoc (Debian: protobuf-compiler), protoc-gen-swift built from apple/swift-protobuf 1.39.0 and
# protoc-gen-grpc-swift-2 built from grpc/grpc-swift-protobuf 2.4.1:
#   swift build -c release --product protoc-gen-swift            (in a checkout of swift-protobuf)
#   swift build -c release --product protoc-gen-grpc-swift-2     (in a checkout of grpc-swift-protobuf)
# The generated types have `package` visibility: they are shared by Otter's targets, not public API.
# CI never runs this: the generated code is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
proto_root=Protos
plugin="${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift binary}"
grpc_plugin="${PROTOC_GEN_GRPC_SWIFT:?set PROTOC_GEN_GRPC_SWIFT to the protoc-gen-grpc-swift-2 binary}"
out=Sources/OtterOTLP/Generated
rm -f "$out"/*.pb.swift "$out"/*.grpc.swift
protoc -I "$proto_root" \
    --plugin=protoc-gen-swift="$plugin" \
    --swift_out="$out" \
    --swift_opt=Visibility=Package,FileNaming=PathToUnderscores \
    opentelemetry/proto/common/v1/common.proto \
    opentelemetry/proto/resource/v1/resource.proto \
    opentelemetry/proto/trace/v1/trace.proto \
    opentelemetry/proto/collector/trace/v1/trace_service.proto \
    opentelemetry/proto/logs/v1/logs.proto \
    opentelemetry/proto/collector/logs/v1/logs_service.proto
protoc -I "$proto_root" \
    --plugin=protoc-gen-grpc-swift-2="$grpc_plugin" \
    --grpc-swift-2_out="$out" \
    --grpc-swift-2_opt=Visibility=Package,Client=true,Server=true,FileNaming=PathToUnderscores \
    opentelemetry/proto/collector/trace/v1/trace_service.proto \
    opentelemetry/proto/collector/logs/v1/logs_service.proto
echo "generated: $(ls "$out")"
