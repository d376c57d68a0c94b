import Foundation
import IPTCore
import Testing

/// Every differentiable op's forward values and input gradients against PyTorch (float64 reference
/// from float32 inputs; Fixtures/ops.safetensors, written by scripts/make_core_fixtures.py).
///
/// Each case feeds the fixture's inputs as gradient leaves, seeds ``Tensor/backward(seed:)`` with
/// the fixture's upstream gradient `dy`, and compares with the error measure
/// `max |swift - torch| / (1 + |torch|)` (an absolute-plus-relative tolerance).
@Suite("PyTorch parity of forward values and gradients")
struct TorchParityTests {
    static let forwardTolerance: Float = 1e-5
    static let gradientTolerance: Float = 1e-4

    /// Reads the constants of one fixture case (`<case>.<key>`).
    struct Constants {
        let name: String
        func tensor(_ key: String) -> Tensor { TorchParityTests.fixture("\(name).\(key)") }
        func integers(_ key: String) -> [Int32] { tensor(key).scalars.map { Int32($0) } }
        func rows(_ key: String) -> [[Bool]] {
            let t = tensor(key)
            let width = t.shape.last ?? 1
            return stride(from: 0, to: t.count, by: width).map { start in t.scalars[start..<(start + width)].map { $0 != 0 } }
        }
    }

    /// One op call: the differentiated inputs (fixture keys) and the op, returning one or more outputs.
    struct Case: Sendable {
        let inputs: [String]
        let run: @Sendable ([Tensor], Constants) -> [Tensor]

        init(_ inputs: [String], _ run: @escaping @Sendable ([Tensor], Constants) -> Tensor) {
            self.inputs = inputs
            self.run = { [run($0, $1)] }
        }

        init(_ inputs: [String], outputs run: @escaping @Sendable ([Tensor], Constants) -> [Tensor]) {
            self.inputs = inputs
            self.run = run
        }
    }

    static func fixture(_ key: String) -> Tensor {
        guard let t = Fixtures.ops?.tensors[key] else {
            Issue.record("ops.safetensors has no tensor \(key) (run scripts/make_core_fixtures.py)")
            return Tensor.zeros([0])
        }
        return t
    }

    static let cases: [String: Case] = {
        var cases: [String: Case] = [:]
        cases["add"] = Case(["a", "b"]) { x, _ in x[0] + x[1] }
        cases["sub"] = Case(["a", "b"]) { x, _ in x[0] - x[1] }
        cases["mul"] = Case(["a", "b"]) { x, _ in x[0] * x[1] }
        cases["div"] = Case(["a", "b"]) { x, _ in x[0] / x[1] }
        cases["scalar"] = Case(["x"]) { x, _ in
            let inner: Tensor = (2.5 - x[0]) * 3 + 1  // Float - T, T * Float, T + Float
            let outer: Tensor = -inner / 4 - 0.5      // prefix -, T / Float, T - Float
            return 1 + 2 * outer                      // Float * T, Float + T
        }
        cases["matmul_alpha"] = Case(["a", "b"]) { x, _ in Tensor.matmul(x[0], x[1], transposeB: true, alpha: 0.25) }
        cases["matmul_rank4"] = Case(["a", "b"]) { x, _ in Tensor.matmul(x[0], x[1]) }
        cases["linear"] = Case(["x", "w", "bias"]) { x, _ in Tensor.linear(x[0], weight: x[1], bias: x[2]) }
        cases["linear_nobias"] = Case(["x", "w"]) { x, _ in Tensor.linear(x[0], weight: x[1], bias: nil) }
        cases["sum_all"] = Case(["x"]) { x, _ in x[0].sum() }
        cases["sum_ax1"] = Case(["x"]) { x, _ in x[0].sum(axes: [1]) }
        cases["sum_ax02_keep"] = Case(["x"]) { x, _ in x[0].sum(axes: [0, 2], keepingDimensions: true) }
        cases["mean_all"] = Case(["x"]) { x, _ in x[0].mean() }
        cases["mean_last"] = Case(["x"]) { x, _ in x[0].mean(axes: [-1]) }
        cases["max_ax1"] = Case(["x"]) { x, _ in x[0].max(axis: 1) }
        cases["max_last_keep"] = Case(["x"]) { x, _ in x[0].max(axis: -1, keepingDimensions: true) }
        cases["reshape"] = Case(["x"]) { x, _ in x[0].reshaped([6, -1]) }
        cases["permute"] = Case(["x"]) { x, _ in x[0].permuted([2, 0, 1]) }
        cases["transpose"] = Case(["x"]) { x, _ in x[0].transposed(0, 2) }
        cases["slice"] = Case(["x"]) { x, _ in x[0].slice(axis: 1, 1..<3) }
        cases["concat"] = Case(["a", "b"]) { x, _ in Tensor.concatenate([x[0], x[1]], axis: 1) }
        cases["split"] = Case(["x"], outputs: { x, _ in x[0].split(axis: 2, sizes: [2, 3]) })
        cases["broadcast"] = Case(["x"]) { x, _ in x[0].broadcast(to: [2, 3, 4]) }
        cases["unsqueeze"] = Case(["x"]) { x, _ in x[0].unsqueezed(1) }
        cases["embedding"] = Case(["table"]) { x, c in
            Tensor.embedding(x[0], indices: c.integers("indices"), indexShape: c.tensor("indices").shape)
        }
        cases["softmax"] = Case(["x"]) { x, _ in x[0].softmax() }
        cases["log_softmax"] = Case(["x"]) { x, _ in x[0].logSoftmax() }
        cases["layer_norm"] = Case(["x", "w", "bias"]) { x, _ in Tensor.layerNorm(x[0], weight: x[1], bias: x[2], epsilon: 1e-5) }
        cases["gelu"] = Case(["x"]) { x, _ in x[0].gelu() }
        cases["tanh"] = Case(["x"]) { x, _ in x[0].tanh() }
        cases["sigmoid"] = Case(["x"]) { x, _ in x[0].sigmoid() }
        cases["silu"] = Case(["x"]) { x, _ in x[0].swish() }
        cases["exp"] = Case(["x"]) { x, _ in x[0].exp() }
        cases["log"] = Case(["x"]) { x, _ in x[0].log() }
        cases["sqrt"] = Case(["x"]) { x, _ in x[0].squareRoot() }
        cases["relu"] = Case(["x"]) { x, _ in x[0].relu() }
        cases["square"] = Case(["x"]) { x, _ in x[0].squared() }
        cases["masked_fill"] = Case(["x"]) { x, c in x[0].maskedFill(c.tensor("mask"), value: -3) }
        cases["cross_entropy"] = Case(["logits"]) { x, c in
            Tensor.labelSmoothedCrossEntropy(logits: x[0], targets: c.integers("targets"), epsilon: 0, reduction: .mean)
        }
        cases["mse"] = Case(["a", "b"]) { x, _ in Tensor.meanSquaredError(x[0], x[1]) }
        cases["hadamard16"] = Case(["x"]) { x, _ in x[0].hadamardTransform() }
        cases["hadamard64"] = Case(["x"]) { x, _ in x[0].hadamardTransform() }
        cases["attention_pad"] = Case(["q", "k", "v"]) { x, c in
            Tensor.attention(query: x[0], key: x[1], value: x[2], heads: 2, mask: AttentionMask(keyPadding: c.rows("padding")))
        }
        cases["attention_causal"] = Case(["q", "k", "v"]) { x, _ in
            Tensor.attention(query: x[0], key: x[1], value: x[2], heads: 3, mask: AttentionMask(causal: true))
        }
        cases["attention_offset"] = Case(["q", "k", "v"]) { x, _ in
            Tensor.attention(query: x[0], key: x[1], value: x[2], heads: 2, mask: AttentionMask(causal: true), causalOffset: 3)
        }
        cases["attention_pad_causal"] = Case(["q", "k", "v"]) { x, c in
            Tensor.attention(query: x[0], key: x[1], value: x[2], heads: 2,
                             mask: AttentionMask(keyPadding: c.rows("padding"), causal: true))
        }
        cases["source_attention"] = Case(["q", "e", "wk", "bk", "wv", "bv"]) { x, c in
            Tensor.sourceAttention(query: x[0], source: x[1], keyWeight: x[2], keyBias: x[3], valueWeight: x[4],
                                   valueBias: x[5], heads: 3, mask: AttentionMask(keyPadding: c.rows("padding")))
        }
        cases["source_attention_one_item"] = Case(["q", "e", "wk", "bk", "wv", "bv"]) { x, _ in
            Tensor.sourceAttention(query: x[0], source: x[1], keyWeight: x[2], keyBias: x[3], valueWeight: x[4],
                                   valueBias: x[5], heads: 4)
        }
        for (reduction, tag) in [(LossReduction.sum, "sum"), (.mean, "mean"), (.none, "none")] {
            cases["lsce_\(tag)"] = Case(["logits"]) { x, c in
                Tensor.labelSmoothedCrossEntropy(logits: x[0], targets: c.integers("targets"), epsilon: 0.1,
                                                 ignoreIndex: -100, reduction: reduction)
            }
        }
        for ta in [false, true] {
            for tb in [false, true] {
                let tag = (ta ? "t" : "n") + (tb ? "t" : "n")
                for prefix in ["matmul", "matmul_batched", "matmul_bcast_b", "matmul_bcast_a"] {
                    cases["\(prefix).\(tag)"] = Case(["a", "b"]) { x, _ in
                        Tensor.matmul(x[0], x[1], transposeA: ta, transposeB: tb)
                    }
                }
            }
        }
        return cases
    }()

    /// `max |actual - expected| / (1 + |expected|)`; infinity on a shape mismatch.
    static func error(_ actual: Tensor, _ expected: Tensor) -> Float {
        guard actual.shape == expected.shape else { return .infinity }
        var worst: Float = 0
        for (a, e) in zip(actual.scalars, expected.scalars) {
            let d = abs(a - e) / (1 + abs(e))
            worst = d.isNaN ? .infinity : max(worst, d)
        }
        return worst
    }

    @Test(arguments: TorchParityTests.cases.keys.sorted())
    func parity(_ name: String) throws {
        let testCase = try #require(Self.cases[name])
        let constants = Constants(name: name)
        let leaves = testCase.inputs.map { Self.fixture("\(name).\($0)").requiringGradient() }
        let outputs = testCase.run(leaves, constants)
        var forward: Float = 0
        let suffixes = outputs.count == 1 ? [""] : outputs.indices.map(String.init)
        for (y, suffix) in zip(outputs, suffixes) {
            let e = Self.error(y, Self.fixture("\(name).y\(suffix)"))
            #expect(e <= Self.forwardTolerance, "\(name): forward y\(suffix) error \(e), shape \(y.shape)")
            forward = max(forward, e)
        }
        if outputs.count == 1 {
            outputs[0].backward(seed: Self.fixture("\(name).dy"))
        } else {
            // Several outputs: the gradient of sum_i <y_i, dy_i> seeds each with its dy_i.
            zip(outputs, suffixes).map { ($0 * Self.fixture("\(name).dy\($1)")).sum() }.reduce(Tensor(scalar: 0), +).backward()
        }
        var gradient: Float = 0
        for (key, leaf) in zip(testCase.inputs, leaves) {
            let g = try #require(leaf.gradient, "\(name): no gradient for \(key)")
            let e = Self.error(g, Self.fixture("\(name).d\(key)"))
            #expect(e <= Self.gradientTolerance, "\(name): gradient d\(key) error \(e)")
            gradient = max(gradient, e)
        }
        print("parity \(name): forward \(forward), gradient \(gradient)")
    }

    @Test func everyFixtureCaseIsChecked() throws {
        let file = try #require(Fixtures.ops)
        let fixtureCases = Set(file.names.compactMap { key -> String? in
            guard let dot = key.lastIndex(of: ".") else { return nil }
            return String(key[..<dot])
        }.filter { !$0.hasPrefix("svd_") })
        #expect(fixtureCases == Set(Self.cases.keys))
    }
}

/// Dropout cannot match PyTorch's random stream; its contract is checked statistically.
@Suite("Dropout statistics")
struct DropoutTests {
    @Test func keepRateScalingAndGradientMask() {
        let p: Float = 0.3, n = 200_000
        var generator = RandomGenerator(seed: 2024)
        let x = Tensor.randomUniform([n], low: 1, high: 2, generator: &generator).requiringGradient()
        let y = x.dropout(probability: p, generator: &generator)
        let upstream = Tensor.randomNormal([n], generator: &generator)
        y.backward(seed: upstream)
        let dx = x.gradient?.scalars ?? []
        let (xs, ys, gs) = (x.scalars, y.scalars, upstream.scalars)
        let scale = 1 / (1 - p)
        var kept = 0, wrongScale = 0, wrongGradient = 0
        for i in 0..<n {
            if ys[i] != 0 {
                kept += 1
                if ys[i] != xs[i] * scale { wrongScale += 1 }
                if dx[i] != gs[i] * scale { wrongGradient += 1 }
            } else if dx[i] != 0 {
                wrongGradient += 1
            }
        }
        let rate = Double(kept) / Double(n)
        // Binomial standard deviation is 0.001 here; 5 of them.
        #expect(abs(rate - 0.7) < 0.005, "keep rate \(rate)")
        #expect(wrongScale == 0)
        #expect(wrongGradient == 0)
        // The mean is preserved in expectation (inverted dropout).
        #expect(abs(y.mean().item / x.mean().item - 1) < 0.01)
    }

    @Test func probabilityZeroIsIdentityAndMasksAreReproducible() {
        var g1 = RandomGenerator(seed: 5), g2 = RandomGenerator(seed: 5)
        let x = Tensor.ones([1000])
        var unused = RandomGenerator(seed: 1)
        #expect(x.dropout(probability: 0, generator: &unused).scalars == x.scalars)
        #expect(x.dropout(probability: 0.5, generator: &g1).scalars == x.dropout(probability: 0.5, generator: &g2).scalars)
        #expect(x.dropout(probability: 0.5, generator: &g1).scalars != x.dropout(probability: 0.5, generator: &g1).scalars)
    }
}
