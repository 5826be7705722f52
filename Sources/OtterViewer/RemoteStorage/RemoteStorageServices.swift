import GRPCCore
import Otter
import OtterOTLP
import ServiceLifecycle

/// Jaeger's `jaeger.storage.v2.DependencyReader` over the viewer's ``DependencyReader``.
package struct RemoteStorageDependencyReader: Jaeger_Storage_V2_DependencyReader.SimpleServiceProtocol {
    package let store: any DependencyReader

    package init(store: any DependencyReader) {
        self.store = store
    }

    package func getDependencies(
        request: Jaeger_Storage_V2_GetDependenciesRequest, context: ServerContext
    ) async throws
        -> Jaeger_Storage_V2_GetDependenciesResponse
    {
        let start = request.hasStartTime ? try RemoteStorageQuery.nanoseconds(request.startTime, "start_time") : 0
        let end =
            request.hasEndTime ? try RemoteStorageQuery.nanoseconds(request.endTime, "end_time") : UntrustedValue.maximumNanoseconds
        guard start <= end else { throw RemoteStorageQuery.invalid("start_time must not be after end_time") }
        let dependencies = try await RemoteStorageQuery.reading {
            try await store.dependencies(startNanoseconds: start, endNanoseconds: end)
        }
        var answer = Jaeger_Storage_V2_GetDependenciesResponse()
        answer.dependencies = dependencies.map { dependency in
            var message = Jaeger_Storage_V2_Dependency()
            message.parent = dependency.parent
            message.child = dependency.child
            message.callCount = UInt64(clamping: dependency.callCount)
            return message
        }
        return answer
    }
}

/// Jaeger's `jaeger.storage.v2.Capabilities`: what Otter's search supports, so Jaeger's UI offers a search across
/// every service.
package struct RemoteStorageCapabilities: Jaeger_Storage_V2_Capabilities.SimpleServiceProtocol {
    package init() {}

    package func getCapabilities(
        request: Jaeger_Storage_V2_GetCapabilitiesRequest, context: ServerContext
    ) async throws
        -> Jaeger_Storage_V2_GetCapabilitiesResponse
    {
        var answer = Jaeger_Storage_V2_GetCapabilitiesResponse()
        // An empty service searches them all; every condition of a search is matched by one span (its resource's
        // attributes count as the span's). Structured filters are not served: the lists stay empty.
        answer.search.withoutServiceName = true
        answer.search.sameSpanConjunction = true
        return answer
    }
}

/// gRPC's health service (`grpc.health.v1.Health`) for the remote storage listener, naming the services Jaeger's own
/// reference server names: SERVING while the viewer runs, NOT_SERVING to watchers once it shuts down.
package struct RemoteStorageHealth: Grpc_Health_V1_Health.SimpleServiceProtocol {
    /// The whole server ("") and each service it serves.
    static let serviceNames = [
        "", "jaeger.storage.v2.TraceReader", "jaeger.storage.v2.DependencyReader", "jaeger.storage.v2.Capabilities",
        "jaeger.storage.v2.TraceWriter", "opentelemetry.proto.collector.trace.v1.TraceService",
    ]

    package init() {}

    package func check(
        request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext
    ) async throws
        -> Grpc_Health_V1_HealthCheckResponse
    {
        guard Self.serviceNames.contains(request.service) else {
            throw RPCError(code: .notFound, message: "unknown service \(UntrustedValue.quoted(String(request.service.prefix(200))))")
        }
        return Self.response(.serving)
    }

    package func list(
        request: Grpc_Health_V1_HealthListRequest, context: ServerContext
    ) async throws
        -> Grpc_Health_V1_HealthListResponse
    {
        var answer = Grpc_Health_V1_HealthListResponse()
        for name in Self.serviceNames { answer.statuses[name] = Self.response(.serving) }
        return answer
    }

    package func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext
    ) async throws {
        let known = Self.serviceNames.contains(request.service)
        try await response.write(Self.response(known ? .serving : .serviceUnknown))
        // The status changes only when the viewer stops: wait for that (or for the caller to go away), then say so.
        do {
            try await gracefulShutdown()
        } catch {
            return
        }
        if known { try await response.write(Self.response(.notServing)) }
    }

    static func response(_ status: Grpc_Health_V1_HealthCheckResponse.ServingStatus) -> Grpc_Health_V1_HealthCheckResponse {
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = status
        return response
    }
}
