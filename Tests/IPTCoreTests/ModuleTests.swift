import IPTCore
import Testing

/// Small modules shaped like BART's: keyed children, arrays of layers, an optional child, a tied head.
final class Dense: Module {
    var weight: Parameter
    var bias: Parameter?

    init(_ inputs: Int, _ outputs: Int, bias: Bool = true) {
        weight = Parameter(Tensor.full([outputs, inputs], 0.5))
        self.bias = bias ? Parameter(Tensor.zeros([outputs])) : nil
    }
}

final class Block: Module {
    @Key("self_attn") var attention = Dense(4, 4)
    var layers = [Dense(4, 4), Dense(4, 2, bias: false)]
    var scales = [Parameter(Tensor.ones([2])), Parameter(Tensor.ones([3]))]
    var adapter: Dense? = nil
    @Key("final_layer_norm") var norm = Dense(2, 2)
}

final class TiedModel: Module {
    var shared = Parameter(Tensor.zeros([10, 4]))
    var encoder = Block()
    @Key("lm_head") var head = Dense(4, 10, bias: false)

    override init() {
        super.init()
        head.weight = shared  // tied, as BART's embeddings and LM head
    }
}

@Suite("Module parameter discovery, loading and freezing")
struct ModuleTests {
    static let expectedKeys = [
        "shared",
        "encoder.self_attn.weight", "encoder.self_attn.bias",
        "encoder.layers.0.weight", "encoder.layers.0.bias", "encoder.layers.1.weight",
        "encoder.scales.0", "encoder.scales.1",
        "encoder.final_layer_norm.weight", "encoder.final_layer_norm.bias",
    ]

    @Test func parametersAreNamedByCheckpointPathInDeclarationOrder() {
        let model = TiedModel()
        #expect(model.namedParameters().map(\.key) == Self.expectedKeys)
        #expect(model.allParameterPaths().map(\.key) == Self.expectedKeys + ["lm_head.weight"])
        #expect(model.parameter("lm_head.weight") === model.shared)
        #expect(model.parameter("encoder.layers.1.bias") == nil)
        #expect(model.parameterCount == 40 + 2 * 20 + 8 + 5 + 6)  // the tied weight once
        #expect(model.namedModules().map(\.key) == ["", "encoder", "encoder.self_attn", "encoder.layers.0",
                                                   "encoder.layers.1", "encoder.final_layer_norm", "lm_head"])
        model.encoder.adapter = Dense(2, 2)
        #expect(model.namedParameters().map(\.key).contains("encoder.adapter.weight"))
    }

    @Test func updateLoadsEverythingOrReportsEveryProblem() throws {
        let model = TiedModel()
        var state = model.stateDictionary()
        #expect(Set(state.keys) == Set(Self.expectedKeys))
        state["shared"] = Tensor.full([10, 4], 2)
        state["encoder.scales.1"] = Tensor.arange(3)
        try model.update(from: state)
        #expect(model.head.weight.value.scalars == Tensor.full([10, 4], 2).scalars)  // through the tie
        #expect(model.encoder.scales[1].value.scalars == [0, 1, 2])

        // Every problem at once: two missing keys, two unexpected keys, two shape mismatches.
        var broken = model.stateDictionary()
        broken["encoder.layers.0.bias"] = nil
        broken["encoder.scales.0"] = nil
        broken["decoder.extra"] = Tensor.zeros([1])
        broken["encoder.layers.9.weight"] = Tensor.zeros([1])
        broken["encoder.self_attn.weight"] = Tensor.zeros([4, 5])
        broken["encoder.final_layer_norm.bias"] = Tensor.zeros([3])
        let error = try #require(throws: ParameterLoadError.self) { try model.update(from: broken) }
        #expect(error.missing.sorted() == ["encoder.layers.0.bias", "encoder.scales.0"])
        #expect(error.unexpected == ["decoder.extra", "encoder.layers.9.weight"])
        #expect(error.mismatched.map { "\($0.key) \($0.expected) \($0.found)" } == [
            "encoder.self_attn.weight [4, 4] [4, 5]", "encoder.final_layer_norm.bias [2] [3]",
        ])
        #expect(!error.description.contains("\n"))
        #expect(error.description.contains("encoder.layers.0.bias") && error.description.contains("decoder.extra"))
        #expect(model.encoder.scales[1].value.scalars == [0, 1, 2])  // nothing was loaded

        // Not strict: missing and unexpected keys are allowed, shape mismatches never are.
        var partial = ["encoder.scales.0": Tensor.full([2], 7), "unused": Tensor.zeros([1])]
        try model.update(from: partial, strict: false)
        #expect(model.encoder.scales[0].value.scalars == [7, 7])
        partial["encoder.scales.1"] = Tensor.zeros([4])
        #expect(throws: ParameterLoadError.self) { try model.update(from: partial, strict: false) }

        // A tied weight is satisfied by any of its paths.
        var viaHead = model.stateDictionary()
        viaHead["lm_head.weight"] = viaHead.removeValue(forKey: "shared").map { _ in Tensor.full([10, 4], -1) }
        try model.update(from: viaHead)
        #expect(model.shared.value.scalars == Tensor.full([10, 4], -1).scalars)
    }

    @Test func freezingByPredicate() {
        let model = TiedModel()
        #expect(model.trainableParameters().count == Self.expectedKeys.count)
        model.freeze()
        #expect(model.trainableParameters().isEmpty && model.trainableParameterCount == 0)
        model.unfreeze { $0.hasPrefix("encoder.layers.") }
        #expect(model.trainableParameters().map(\.key) == ["encoder.layers.0.weight", "encoder.layers.0.bias",
                                                           "encoder.layers.1.weight"])
        model.unfreeze()
        model.freeze { $0.hasSuffix(".bias") || $0 == "shared" }
        #expect(!model.head.weight.isTrainable)  // frozen through its tied path
        #expect(model.trainableParameters().map(\.key) == ["encoder.self_attn.weight", "encoder.layers.0.weight",
                                                           "encoder.layers.1.weight", "encoder.scales.0",
                                                           "encoder.scales.1", "encoder.final_layer_norm.weight"])
    }

    @Test func trainingModeReachesEveryModule() {
        let model = TiedModel()
        #expect(model.namedModules().allSatisfy { !$0.module.isTraining })
        model.train()
        #expect(model.namedModules().allSatisfy { $0.module.isTraining })
        model.train(false)
        #expect(model.encoder.layers[1].isTraining == false)
    }

    @Test func zeroGradientsClearsEveryParameter() {
        let model = TiedModel()
        let x = Tensor.ones([3, 4])
        Tensor.linear(Tensor.linear(x, weight: model.encoder.attention.weight.tensor, bias: nil),
                      weight: model.head.weight.tensor, bias: nil).sum().backward()
        #expect(model.shared.gradient != nil && model.encoder.attention.weight.gradient != nil)
        model.zeroGradients()
        #expect(model.parameters().allSatisfy { $0.gradient == nil })
    }
}
