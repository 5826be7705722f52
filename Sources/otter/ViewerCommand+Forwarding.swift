import Foundation
import OtterOTLP
import OtterViewer

extension ViewerCommand {
    /// The forwarding the `--forward` flags ask for; nil without `--forward`. Throws ``InvalidParameter`` naming the flag.
    func forwardingConfiguration() throws -> ForwardingConfiguration? {
        guard let forward else {
            if !forwardHeader.isEmpty || !forwardOnly.isEmpty {
                throw InvalidParameter(name: "--forward", detail: "--forward-header and --forward-only need --forward URL")
            }
            return nil
        }
        guard let url = URL(string: forward), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else {
            throw InvalidParameter(
                name: "--forward", detail: "\(UntrustedValue.quoted(String(forward.prefix(200)))) is not an http:// or https:// URL")
        }
        if let port = url.port, !(1...65_535).contains(port) {
            throw InvalidParameter(name: "--forward", detail: "port \(port) is not a port number (1 to 65535)")
        }
        guard url.query == nil, url.fragment == nil else {
            throw InvalidParameter(
                name: "--forward", detail: "give the receiver's base URL without a query or fragment (/v1/traces and /v1/logs are appended)"
            )
        }
        let ownPorts = [forwardProtocol == "grpc" ? otlpGRPCPort : otlpHTTPPort].filter { $0 != 0 }
        if let port = url.port, ownPorts.contains(port), Viewer.isLoopback(host) || host == bind {
            throw InvalidParameter(
                name: "--forward", detail: "\(host):\(port) is this viewer's own OTLP port: it would forward everything to itself, forever")
        }
        guard let transport = OTLPExporterConfiguration.TransportProtocol(rawValue: forwardProtocol), transport != .httpJSON else {
            throw InvalidParameter(
                name: "--forward-protocol", detail: "\(UntrustedValue.quoted(forwardProtocol)) is not http/protobuf or grpc")
        }
        guard let compression = OTLPExporterConfiguration.Compression(rawValue: forwardCompression) else {
            throw InvalidParameter(
                name: "--forward-compression", detail: "\(UntrustedValue.quoted(forwardCompression)) is not gzip or none")
        }
        let headers = try forwardHeader.map { header -> (name: String, value: String) in
            guard let equals = header.firstIndex(of: "="), equals != header.startIndex else {
                throw InvalidParameter(
                    name: "--forward-header", detail: "\(UntrustedValue.quoted(String(header.prefix(80)))) is not NAME=VALUE")
            }
            let name = header[..<equals].trimmingCharacters(in: .whitespaces)
            guard name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
                throw InvalidParameter(
                    name: "--forward-header", detail: "\(UntrustedValue.quoted(String(name.prefix(80)))) is not a header name")
            }
            let value = String(header[header.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            // A line break would end the header and start another (header injection); other control characters are
            // refused by HTTP/2 and HTTP/1.1 alike.
            guard value.unicodeScalars.allSatisfy({ $0 == "\t" || ($0.value >= 32 && $0.value != 127) }) else {
                throw InvalidParameter(
                    name: "--forward-header", detail: "the value of \(name) holds a control character (a line break?)")
            }
            return (name, value)
        }
        let timeout = try UntrustedValue.duration("--forward-timeout", forwardTimeout)
        guard timeout > 0 else { throw InvalidParameter(name: "--forward-timeout", detail: "must be more than 0") }
        let wait = try UntrustedValue.duration("--forward-decision-wait", forwardDecisionWait)
        let upstream = OTLPExporterConfiguration(
            endpoint: url, transportProtocol: transport, headers: headers, compression: compression,
            timeout: .nanoseconds(Int64(clamping: timeout)))
        return ForwardingConfiguration(
            upstream: upstream, filters: try forwardOnly.map(ForwardingConfiguration.filter),
            decisionWait: .nanoseconds(Int64(clamping: wait)))
    }
}
