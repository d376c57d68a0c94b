import Foundation
import IPTCore
import IPTModels
import IPTTraining
import Testing

@Suite("Fastfood reparameterisation of a model")
struct FastfoodReparameterizationTests {
    /// A tiny nonlinear model: tanh(x W1^T + b1) W2^T, squared error.
    final class Tiny: Module {
        let first: Linear
        let second: Linear
        override init() {
            var g = RandomGenerator(seed: 2)
            first = Linear(3, 5, generator: &g)
            second = Linear(5, 2, generator: &g)
        }
        func loss() -> Tensor {
            let x = Tensor([0.5, -1, 2, 1, 0.3, -0.7], shape: [2, 3])
            let y = Tensor([1, 0, -1, 0.5], shape: [2, 2])
            return Tensor.meanSquaredError(second(first(x).tanh()), y)
        }
    }

    func loss(_ model: Tiny, _ r: FastfoodReparameterization, z: [Float], scalars: [Float]? = nil) -> Double {
        r.z.value = Tensor(z)
        if let scalars { r.scalars!.value = Tensor(scalars) }
        r.apply()
        return withoutGradients { Double(model.loss().item) }
    }

    @Test(arguments: [false, true])
    func gradientOfZMatchesFiniteDifferences(structureAware: Bool) {
        let model = Tiny()
        model.freeze()
        let r = FastfoodReparameterization(parameters: model.namedParameters(), dimension: 4, seed: 7,
                                           structureAware: structureAware)
        let z: [Float] = [0.3, -0.2, 0.5, 0.1]
        let scalars: [Float] = [1.5, 0.5, 2, 1]
        if structureAware { r.scalars!.value = Tensor(scalars) }
        r.z.value = Tensor(z)
        r.apply()
        model.loss().backward()
        r.accumulateGradients()
        let analytic = r.z.gradient!.scalars
        #expect(model.parameters().allSatisfy { $0.gradient == nil }, "weight gradients are consumed")
        let h: Float = 1e-2
        for i in 0..<4 {
            var plus = z, minus = z
            plus[i] += h; minus[i] -= h
            let numeric = (loss(model, r, z: plus, scalars: structureAware ? scalars : nil)
                - loss(model, r, z: minus, scalars: structureAware ? scalars : nil)) / Double(2 * h)
            #expect(abs(Double(analytic[i]) - numeric) < 2e-3 * max(1, abs(numeric)), "dz[\(i)]: \(analytic[i]) vs \(numeric)")
        }
        if structureAware {
            let analyticScalars = r.scalars!.gradient!.scalars
            for i in 0..<4 {
                var plus = scalars, minus = scalars
                plus[i] += h; minus[i] -= h
                let numeric = (loss(model, r, z: z, scalars: plus) - loss(model, r, z: z, scalars: minus)) / Double(2 * h)
                #expect(abs(Double(analyticScalars[i]) - numeric) < 2e-3 * max(1, abs(numeric)), "dlambda[\(i)]")
            }
        }
    }

    @Test func zeroVectorLeavesThePretrainedWeights() {
        let model = Tiny()
        let before = model.stateDictionary()
        let r = FastfoodReparameterization(parameters: model.namedParameters(), dimension: 3, seed: 1)
        r.apply()
        for (key, value) in model.stateDictionary() {
            #expect(value.scalars == before[key]!.scalars, "\(key) moved with z = 0")
        }
        r.z.value = Tensor([1, 0, 0])
        r.apply()
        r.z.value = Tensor([0, 0, 0])
        r.apply()
        for (key, value) in model.stateDictionary() {
            #expect(value.scalars == before[key]!.scalars, "\(key) did not return to theta0")
        }
    }

    @Test func legacyScalingDividesEachContributionByL() {
        let model = Tiny()
        let exact = FastfoodReparameterization(parameters: model.namedParameters(), dimension: 2, seed: 3)
        exact.z.value = Tensor([0.2, 0.1])
        exact.apply()
        // One tensor only, so the legacy gradient is the exact one divided by its L.
        let single = [model.namedParameters()[0]]
        let a = FastfoodReparameterization(parameters: single, dimension: 2, seed: 3)
        let b = FastfoodReparameterization(parameters: single, dimension: 2, seed: 3, legacyGradientScaling: true)
        for r in [a, b] {
            r.apply()
            model.loss().backward()
            r.accumulateGradients()
            model.zeroGradients()
        }
        let l = Float(a.projection.transforms[0].transform.length)
        for (x, y) in zip(a.z.gradient!.scalars, b.z.gradient!.scalars) { #expect(abs(x / l - y) < 1e-6) }
    }
}
