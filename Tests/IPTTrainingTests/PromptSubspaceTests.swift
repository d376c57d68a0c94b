import Foundation
import IPTCore
import IPTTraining
import Testing

@Suite("Prompt subspaces")
struct PromptSubspaceTests {
    @Test func autoencoderShapesKeysAndGradient() throws {
        var g = RandomGenerator(seed: 4)
        let ae = PromptAutoencoder(dimension: 3, promptLength: 5, hiddenSize: 4, decoderWidth: 6, generator: &g)
        #expect(ae.namedParameters().map(\.key) == ["encoder.weight", "encoder.bias", "decoder.hidden.weight",
                                                     "decoder.hidden.bias", "decoder.output.weight", "decoder.output.bias"])
        #expect(ae.parameterCount == 20 * 3 + 3 + 3 * 6 + 6 + 6 * 20 + 20)
        // PyTorch default init bounds: U(±1/sqrt(fan_in)).
        #expect(ae.encoder.weight.value.scalars.allSatisfy { abs($0) <= 1 / Float(20).squareRoot() })
        #expect(ae.decoder.hidden.weight.value.scalars.allSatisfy { abs($0) <= 1 / Float(3).squareRoot() })
        let prompts = Tensor.randomNormal([2, 5, 4], generator: &g)
        let reconstruction = ae(prompts)
        #expect(reconstruction.shape == [2, 5, 4])
        // Reconstruction is decoder(encoder(p)) row by row.
        let z = ae.encode(prompts)
        let second = ae.decoder.prompt(for: z.slice(axis: 0, 1..<2).reshaped([3]))
        #expect(second.maxAbsDifference(reconstruction.slice(axis: 0, 1..<2).reshaped([5, 4])) < 1e-6)
        // Gradient reaches the autoencoder's weights through the MSE.
        Tensor.meanSquaredError(reconstruction, prompts).backward()
        #expect(ae.parameters().allSatisfy { $0.gradient != nil })
    }

    /// A subspace file's geometry comes from outside: sizes that overflow, or an autoencoder larger
    /// than the tensors the file holds, are refused naming the file before anything is allocated.
    @Test func aGeometryBeyondTheFileIsRefused() throws {
        var g = RandomGenerator(seed: 4)
        let ae = PromptAutoencoder(dimension: 3, promptLength: 5, hiddenSize: 4, decoderWidth: 6, generator: &g)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-geometry-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let metadata = ArtifactMetadata(kind: "prompt-subspace", procedure: "subspace-finding", configuration: "{}",
                                        baseModel: nil, step: 1, seed: 1)
        try SubspaceArtifact.write(ae, metadata: metadata, to: path)
        #expect(try SubspaceArtifact.read(path, model: nil).geometry.decoderWidth == 6)
        #expect(PromptAutoencoder.parameterCount(dimension: 3, promptLength: 5, hiddenSize: 4, decoderWidth: 6) == ae.parameterCount)
        #expect(PromptAutoencoder.parameterCount(dimension: 1 << 24, promptLength: 1 << 24, hiddenSize: 1 << 24, decoderWidth: 1) == nil)
        let file = try SafeTensors.read(path)
        for (geometry, problem) in [
            (#"{"method":"autoencoder","dimension":3,"prompt_length":4611686018427387904,"hidden_size":4,"decoder_width":6}"#, "invalid subspace geometry"),
            (#"{"method":"pca","dimension":1,"prompt_length":4611686018427387904,"hidden_size":4}"#, "invalid subspace geometry"),
            (#"{"method":"autoencoder","dimension":3,"prompt_length":5,"hidden_size":4,"decoder_width":16000000}"#, "needs more values than the file's"),
            // The encoder (d x n h) counts too, not only the decoder's last layer.
            (#"{"method":"autoencoder","dimension":16000000,"prompt_length":5,"hidden_size":4,"decoder_width":1}"#, "needs more values than the file's"),
        ] {
            var strings = file.metadata
            strings["subspace"] = geometry
            try SafeTensors.write(file.names.map { ($0, file.tensors[$0]!) }, metadata: strings, to: path)
            #expect {
                _ = try SubspaceArtifact.read(path, model: nil)
            } throws: { "\($0)".hasPrefix(path) && "\($0)".contains(problem) }
        }
    }

    @Test func decoderCanExpressAPromptSoZRecoversIt() throws {
        // With W3 = identity-like and b3 = 0, z -> tanh(W2 z + b2) is learned back by gradient descent.
        var g = RandomGenerator(seed: 5)
        let decoder = PromptDecoder(dimension: 2, promptLength: 2, hiddenSize: 2, decoderWidth: 4, generator: &g)
        decoder.freeze()
        let target = decoder.prompt(for: Tensor([0.3, -0.2]))
        let z = Parameter(Tensor([0, 0]))
        for _ in 0..<2000 {
            z.zeroGradient()
            Tensor.meanSquaredError(decoder.prompt(for: z.tensor), target).backward()
            z.value = z.value - z.gradient! * 2
        }
        #expect(decoder.prompt(for: z.value).maxAbsDifference(target) < 1e-3)
        #expect(decoder.parameters().allSatisfy { $0.gradient == nil })
    }

    @Test func linearSubspaceRoundTripsItsCoordinates() {
        // Orthonormal basis of two directions in R^6.
        let basis = Tensor([1, 0, 0, 0, 0, 0, 0, 0.6, 0, 0, 0.8, 0], shape: [2, 6]).transposed()
        let mean = Tensor([1, 1, 1, 1, 1, 1])
        let subspace = LinearPromptSubspace(mean: mean, basis: basis, promptLength: 3, hiddenSize: 2)
        let z = Tensor([0.5, -2, 1, 3], shape: [2, 2])
        let prompts = subspace.prompts(for: z)
        #expect(prompts.shape == [2, 3, 2])
        #expect(subspace.coordinates(of: prompts).maxAbsDifference(z) < 1e-6)
        #expect(prompts[0, 0, 0] == 1.5)
    }
}

@Suite("Principal prompt subspace")
struct PrincipalSubspaceTests {
    @Test func spansTheLeadingDirectionsOfThePrompts() throws {
        // Prompts on a 2-D affine plane in R^(3x2) plus tiny noise: PCA with d = 2 reconstructs
        // them almost exactly, d = 1 does not.
        var g = RandomGenerator(seed: 8)
        let base = Tensor.randomNormal([3, 2], generator: &g)
        let u = Tensor.randomNormal([3, 2], generator: &g), v = Tensor.randomNormal([3, 2], generator: &g)
        var prompts: [Tensor] = []
        for _ in 0..<6 {
            let a = Float(g.nextNormal()), b = Float(g.nextNormal())
            prompts.append(base + u * a + v * b + Tensor.randomNormal([3, 2], standardDeviation: 1e-4, generator: &g))
        }
        let plane = try PrincipalSubspace.fit(prompts, dimension: 2)
        let line = try PrincipalSubspace.fit(prompts, dimension: 1)
        // Orthonormal basis.
        let gram = Tensor.matmul(plane.basis.value, plane.basis.value, transposeA: true)
        #expect(gram.maxAbsDifference(Tensor([1, 0, 0, 1], shape: [2, 2])) < 1e-5)
        func error(_ s: LinearPromptSubspace) -> Float {
            prompts.map { p in
                let r = s.prompts(for: s.coordinates(of: p.unsqueezed(0))).reshaped([3, 2])
                return r.maxAbsDifference(p)
            }.max()!
        }
        #expect(error(plane) < 1e-3)
        #expect(error(line) > 1e-2)
        #expect(throws: TrainingError.self) { _ = try PrincipalSubspace.fit(prompts, dimension: 7) }
    }
}
