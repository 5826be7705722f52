#!/usr/bin/env bash
# Regenerates the Swift code of the .proto files in Protos/ (committed, Apache-2.0): Sources/OtterOTLP/Generated from
# OTLP's, Sources/OtterViewer/RemoteStorage/Generated from jaeger-idl's storage v2 API and gRPC's health service.
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

# Jaeger's remote storage API (jaeger-idl v0.11.1) and the gRPC health service. trace_storage.proto's OTLP types are
# OtterOTLP's; gnostic's OpenAPI annotations are only read by protoc (they are options, which generate no Swift).
viewer_out=Sources/OtterViewer/RemoteStorage/Generated
mkdir -p "$viewer_out"
rm -f "$viewer_out"/*.pb.swift "$viewer_out"/*.grpc.swift
mappings=$(mktemp)
trap 'rm -f "$mappings"' EXIT
cat > "$mappings" <<'MAPPINGS'
mapping {
  module_name: "OtterOTLP"
  proto_file_path: "opentelemetry/proto/trace/v1/trace.proto"
}
mapping {
  module_name: "OtterOTLP"
  proto_file_path: "opentelemetry/proto/common/v1/common.proto"
}
mapping {
  module_name: "OtterOTLP"
  proto_file_path: "opentelemetry/proto/resource/v1/resource.proto"
}
MAPPINGS
viewer_protos=(storage/v2/trace_storage.proto storage/v2/dependency_storage.proto storage/v2/capabilities.proto
    expression/v1/expression.proto grpc/health/v1/health.proto)
includes=(-I "$proto_root/jaeger-idl" -I "$proto_root" -I "$proto_root/gnostic")
protoc "${includes[@]}" \
    --plugin=protoc-gen-swift="$plugin" \
    --swift_out="$viewer_out" \
    --swift_opt=Visibility=Package,FileNaming=PathToUnderscores,ProtoPathModuleMappings="$mappings" \
    "${viewer_protos[@]}"
protoc "${includes[@]}" \
    --plugin=protoc-gen-grpc-swift-2="$grpc_plugin" \
    --grpc-swift-2_out="$viewer_out" \
    --grpc-swift-2_opt=Visibility=Package,Client=true,Server=true,FileNaming=PathToUnderscores,ProtoPathModuleMappings="$mappings" \
    storage/v2/trace_storage.proto storage/v2/dependency_storage.proto storage/v2/capabilities.proto grpc/health/v1/health.proto
echo "generated: $(ls "$out" "$viewer_out")"
