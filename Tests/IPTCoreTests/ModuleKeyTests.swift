import IPTCore
import Testing

/// `@Key` in its documented form: declared with the checkpoint key, assigned in the initializer.
@Suite("Module keys")
struct ModuleKeyTests {
    final class Projection: Module {
        let weight = Parameter(Tensor.zeros([2, 2]))
    }

    final class Block: Module {
        let width: Int
        @Key("q_proj") var query: Projection
        @Key("layer_norm_bias") var offset: Parameter
        var plain = Projection()

        init(width: Int) {
            self.width = width
            super.init()
            query = Projection()
            offset = Parameter(Tensor.zeros([width]))
        }
    }

    @Test func declaredKeysNameAssignedProperties() {
        let block = Block(width: 3)
        #expect(block.namedParameters().map(\.key) == ["q_proj.weight", "layer_norm_bias", "plain.weight"])
        #expect(block.parameter("layer_norm_bias")?.shape == [3])
    }
}
