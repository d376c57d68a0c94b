/// Gives a module's child or parameter a checkpoint key different from its Swift property name.
///
/// ```swift
/// final class Layer: Module {
///     @Key("self_attn") var selfAttention: Attention
///     @Key("self_attn_layer_norm") var selfAttentionNorm: LayerNorm
/// }
/// ```
/// Properties without the wrapper use their Swift name as the key. The value is assigned in the
/// initializer (after the class's other stored properties, as for any property with a setter), or
/// given at the declaration: `@Key("bias") var offset = Parameter(...)`.
@propertyWrapper
public struct Key<Value> {
    private var value: Value?
    public let key: String

    public var wrappedValue: Value {
        get {
            guard let value else { preconditionFailure("@Key(\"\(key)\") property read before it was assigned") }
            return value
        }
        set { value = newValue }
    }

    public init(wrappedValue: Value, _ key: String) {
        self.value = wrappedValue
        self.key = key
    }

    /// Declares the key of a property assigned later, in the initializer.
    public init(_ key: String) {
        self.value = nil
        self.key = key
    }
}

protocol KeyedProperty {
    var key: String { get }
    var anyValue: Any { get }
}

extension Key: KeyedProperty {
    var anyValue: Any {
        if let value { return value }
        return value as Any
    }
}

/// A neural-network building block whose parameters and children are found by reflection and
/// named by checkpoint path (`encoder.layers.0.self_attn.q_proj.weight`).
///
/// Stored properties of type ``Parameter``, `Module`, their optionals and arrays are discovered
/// automatically; use ``Key`` to map a readable Swift name to the checkpoint's key. Freezing is
/// per parameter and done at module level (``freeze()``, ``unfreeze(where:)``); optimisers take
/// ``trainableParameters()``.
open class Module {
    /// Whether the module is in training mode (dropout active). See ``train(_:)``.
    public private(set) var isTraining = false

    public init() {}

    /// Direct children and parameters, in declaration order, with their keys.
    public final func children() -> [(key: String, value: Any)] {
        var result: [(String, Any)] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let m = mirror { levels.append(m); mirror = m.superclassMirror }
        for m in levels.reversed() {
            for child in m.children {
                guard let label = child.label else { continue }
                if let keyed = child.value as? KeyedProperty {
                    result.append((keyed.key, keyed.anyValue))
                } else {
                    result.append((label, child.value))
                }
            }
        }
        return result
    }

    /// Every parameter below this module, keyed by dotted checkpoint path, in declaration order.
    /// A parameter reachable by two paths (a tied weight) is listed once, under its first path.
    public final func namedParameters() -> [(key: String, parameter: Parameter)] {
        var result: [(String, Parameter)] = []
        var seen = Set<ObjectIdentifier>()
        visit(prefix: "") { key, p in
            if seen.insert(ObjectIdentifier(p)).inserted { result.append((key, p)) }
        }
        return result
    }

    /// Every path under which a parameter is reachable, including the second path of a tied weight.
    public final func allParameterPaths() -> [(key: String, parameter: Parameter)] {
        var result: [(String, Parameter)] = []
        visit(prefix: "") { result.append(($0, $1)) }
        return result
    }

    /// Every module below this one (itself first), keyed by dotted path.
    public final func namedModules() -> [(key: String, module: Module)] {
        var result: [(String, Module)] = [("", self)]
        for (key, value) in children() {
            for (index, module) in Module.modules(in: value) {
                let path = index.map { "\(key).\($0)" } ?? key
                result += module.namedModules().map { ($0.key.isEmpty ? path : "\(path).\($0.key)", $0.module) }
            }
        }
        return result
    }

    private func visit(prefix: String, _ body: (String, Parameter) -> Void) {
        for (key, value) in children() {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let p = value as? Parameter {
                body(path, p)
            } else if let p = value as? Parameter? {
                if let p { body(path, p) }
            } else if let ps = value as? [Parameter] {
                for (i, p) in ps.enumerated() { body("\(path).\(i)", p) }
            } else {
                for (index, module) in Module.modules(in: value) {
                    module.visit(prefix: index.map { "\(path).\($0)" } ?? path, body)
                }
            }
        }
    }

    private static func modules(in value: Any) -> [(Int?, Module)] {
        if let m = value as? Module { return [(nil, m)] }
        if let m = value as? Module? { return m.map { [(nil, $0)] } ?? [] }
        if let ms = value as? [Module] { return ms.enumerated().map { ($0.offset, $0.element) } }
        return []
    }

    /// The parameters, without keys.
    public final func parameters() -> [Parameter] { namedParameters().map(\.parameter) }

    /// The parameters an optimiser should update.
    public final func trainableParameters() -> [(key: String, parameter: Parameter)] {
        namedParameters().filter { $0.parameter.isTrainable }
    }

    /// Total number of scalar parameters (tied weights counted once).
    public final var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }

    /// Number of trainable scalar parameters.
    public final var trainableParameterCount: Int {
        trainableParameters().reduce(0) { $0 + $1.parameter.value.count }
    }

    /// Freezes every parameter below this module.
    public final func freeze() { for p in parameters() { p.isTrainable = false } }

    /// Makes every parameter below this module trainable.
    public final func unfreeze() { for p in parameters() { p.isTrainable = true } }

    /// Freezes the parameters whose key satisfies `predicate`.
    public final func freeze(where predicate: (String) -> Bool) {
        for (key, p) in namedParameters() where predicate(key) { p.isTrainable = false }
    }

    /// Makes trainable the parameters whose key satisfies `predicate`.
    public final func unfreeze(where predicate: (String) -> Bool) {
        for (key, p) in namedParameters() where predicate(key) { p.isTrainable = true }
    }

    /// Forgets every accumulated gradient.
    public final func zeroGradients() { for p in parameters() { p.zeroGradient() } }

    /// Sets training mode (dropout on) or evaluation mode for this module and all below it.
    public final func train(_ on: Bool = true) {
        for (_, m) in namedModules() { m.isTraining = on }
    }

    /// The parameter at `key`, if any.
    public final func parameter(_ key: String) -> Parameter? {
        allParameterPaths().first { $0.key == key }?.parameter
    }

    /// Current values of all parameters, keyed by path.
    public final func stateDictionary() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.key, $0.parameter.value) })
    }

    /// Sets parameter values from `tensors` (keyed by path).
    ///
    /// - Parameters:
    ///   - tensors: values by key.
    ///   - strict: when `true` (the default), every parameter must be given and every key used.
    /// - Throws: ``ParameterLoadError`` listing every missing key, unexpected key and shape mismatch.
    public final func update(from tensors: [String: Tensor], strict: Bool = true) throws {
        let targets = allParameterPaths()
        var missing: [String] = []
        var mismatched: [ParameterLoadError.Mismatch] = []
        var used = Set<String>()
        var loaded = Set<ObjectIdentifier>()
        for (key, p) in targets {
            guard let t = tensors[key] else {
                continue
            }
            used.insert(key)
            if t.shape != p.shape {
                mismatched.append(.init(key: key, expected: p.shape, found: t.shape))
            }
        }
        for (key, p) in targets where tensors[key] == nil {
            // A tied weight is satisfied by any of its paths.
            let tiedLoaded = targets.contains { $0.parameter === p && tensors[$0.key] != nil }
            if !tiedLoaded { missing.append(key) }
        }
        let unexpected = tensors.keys.filter { !used.contains($0) }.sorted()
        if !mismatched.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            throw ParameterLoadError(missing: missing, unexpected: unexpected, mismatched: mismatched)
        }
        for (key, p) in targets {
            guard let t = tensors[key], loaded.insert(ObjectIdentifier(p)).inserted else { continue }
            p.value = t
        }
    }
}

/// Why a set of tensors does not fit a module's parameters.
public struct ParameterLoadError: Error, CustomStringConvertible, Equatable {
    public struct Mismatch: Equatable, Sendable {
        public let key: String
        public let expected: [Int]
        public let found: [Int]
    }
    /// Parameters the tensors do not provide.
    public let missing: [String]
    /// Tensors that match no parameter.
    public let unexpected: [String]
    /// Parameters given with the wrong shape.
    public let mismatched: [Mismatch]

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing \(missing.count) key(s): \(ParameterLoadError.list(missing))") }
        if !unexpected.isEmpty {
            parts.append("unexpected \(unexpected.count) key(s): \(ParameterLoadError.list(unexpected))")
        }
        for m in mismatched.prefix(5) {
            parts.append("shape mismatch for \(m.key): expected \(m.expected), found \(m.found)")
        }
        if mismatched.count > 5 { parts.append("and \(mismatched.count - 5) more shape mismatches") }
        return parts.joined(separator: "; ")
    }

    private static func list(_ keys: [String]) -> String {
        keys.count <= 6 ? keys.joined(separator: ", ")
            : keys.prefix(6).joined(separator: ", ") + ", ... (\(keys.count - 6) more)"
    }
}
