import Instrumentation

/// Reads and writes context to a carrier of string keys and values (HTTP headers, message metadata).
/// Implement it to support another format; compose several with ``CompositePropagator``.
public protocol TextMapPropagator: Instrument {
    /// The carrier keys this propagator reads and writes.
    var fields: [String] { get }
}

/// Runs several propagators in order: each extracts into the same context and injects into the same carrier.
public struct CompositePropagator: TextMapPropagator {
    /// The propagators, in the order they run.
    public let propagators: [any TextMapPropagator]

    /// Makes a propagator that runs `propagators` in order; a later one overwrites what an earlier one extracted under
    /// the same key (two that both read a span context: the last one found wins).
    public init(_ propagators: [any TextMapPropagator]) {
        self.propagators = propagators
    }

    /// Every propagator's fields, in order; a field two of them use appears twice.
    public var fields: [String] { propagators.flatMap(\.fields) }

    /// Lets each propagator, in order, extract from `carrier` into `context`.
    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        // By index: each propagator is called in place, not copied out of the array (a retain and release apiece).
        for index in propagators.indices { propagators[index].extract(carrier, into: &context, using: extractor) }
    }

    /// Lets each propagator, in order, inject `context` into `carrier`.
    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        for index in propagators.indices { propagators[index].inject(context, into: &carrier, using: injector) }
    }
}
