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
            return (name, String(header[header.index(after: equals)...]).trimmingCharacters(in: .whitespaces))
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
