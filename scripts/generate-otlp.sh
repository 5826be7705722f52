#!/usr/bin/env bash
# Regenerates Sources/OtterOTLP/Generated from the OTLP .proto files in ../shared/otlp-proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from apple/swift-protobuf 1.39.0:
#   swift build -c release --product protoc-gen-swift   (in a checkout of swift-protobuf)
# CI never runs this: the generated code is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
proto_root="${OTLP_PROTO_ROOT:-../shared/otlp-proto}"
plugin="${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift binary}"
out=Sources/OtterOTLP/Generated
rm -f "$out"/*.pb.swift
protoc -I "$proto_root" \
    --plugin=protoc-gen-swift="$plugin" \
    --swift_out="$out" \
    --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
    opentelemetry/proto/common/v1/common.proto \
    opentelemetry/proto/resource/v1/resource.proto \
    opentelemetry/proto/trace/v1/trace.proto \
    opentelemetry/proto/collector/trace/v1/trace_service.proto
echo "generated: $(ls "$out")"
