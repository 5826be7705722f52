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
        let shown = UntrustedValue.quoted(String(Self.withoutCredentials(forward).prefix(200)))
        guard var url = URL(string: forward), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else {
            throw InvalidParameter(name: "--forward", detail: "\(shown) is not an http:// or https:// URL")
        }
        if let portText = Self.portText(of: forward), Int(portText).map({ (1...65_535).contains($0) }) != true {
            throw InvalidParameter(name: "--forward", detail: "port \(portText.prefix(20)) is not a port number (1 to 65535)")
        }
        guard url.query == nil, url.fragment == nil else {
            throw InvalidParameter(
                name: "--forward", detail: "give the receiver's base URL without a query or fragment (/v1/traces and /v1/logs are appended)"
            )
        }
        // The port the forwarder will connect to, given or the protocol's default, against this viewer's own.
        let grpc = forwardProtocol == "grpc"
        let port = url.port ?? (scheme == "https" ? 443 : grpc ? 4317 : 80)
        if port == (grpc ? otlpGRPCPort : otlpHTTPPort), Self.isThisMachine(host, bind: bind) {
            throw InvalidParameter(
                name: "--forward", detail: "\(host):\(port) is this viewer's own OTLP port: it would forward everything to itself, forever")
        }
        // user:password in the URL is sent as HTTP Basic authorization (unless --forward-header sets one), not in the URL.
        var basicAuthorization: (name: String, value: String)?
        if let user = url.user(percentEncoded: false), var components = URLComponents(url: url, resolvingAgainstBaseURL: false) {
            let password = url.password(percentEncoded: false) ?? ""
            basicAuthorization = ("authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
            components.user = nil
            components.password = nil
            url = components.url ?? url
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
        let sentHeaders =
            headers + (headers.contains { $0.name.lowercased() == "authorization" } ? [] : basicAuthorization.map { [$0] } ?? [])
        let timeout = try UntrustedValue.duration("--forward-timeout", forwardTimeout)
        guard timeout > 0 else { throw InvalidParameter(name: "--forward-timeout", detail: "must be more than 0") }
        let wait = try UntrustedValue.duration("--forward-decision-wait", forwardDecisionWait)
        let upstream = OTLPExporterConfiguration(
            endpoint: url, transportProtocol: transport, headers: sentHeaders, compression: compression,
            timeout: .nanoseconds(Int64(clamping: timeout)))
        return ForwardingConfiguration(
            upstream: upstream, filters: try forwardOnly.map(ForwardingConfiguration.filter),
            decisionWait: .nanoseconds(Int64(clamping: wait)))
    }

    /// `text` with a user name and password in it replaced by `***`, for messages.
    static func withoutCredentials(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].prefix(while: { $0 != "/" }).lastIndex(of: "@")
        else { return text }
        return text[..<scheme.upperBound] + "***" + text[at...]
    }

    /// The port as written in `url`'s authority (digits or not), nil when none is written: URL drops a port it cannot
    /// represent, which would then mean the scheme's default.
    static func portText(of url: String) -> Substring? {
        guard let scheme = url.range(of: "://") else { return nil }
        var authority = url[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if let bracket = authority.lastIndex(of: "]") { authority = authority[authority.index(after: bracket)...] }
        guard let colon = authority.lastIndex(of: ":") else { return nil }
        return authority[authority.index(after: colon)...]
    }

    /// Whether `host` names this machine: loopback in any spelling (`LOCALHOST`, `localhost.`, `127.1`, `2130706433`,
    /// `::1`), the unspecified address (which connects here), or the address the viewer listens on.
    static func isThisMachine(_ host: String, bind: String) -> Bool {
        var name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if name.hasSuffix(".") { name.removeLast() }
        if ["localhost", "::1", "::", "0.0.0.0", bind.lowercased()].contains(name) || name.hasSuffix(".localhost") { return true }
        var address = in_addr()
        guard inet_aton(name, &address) != 0 else { return false }
        let first = UInt32(bigEndian: address.s_addr) >> 24
        return first == 127 || first == 0
    }
}
