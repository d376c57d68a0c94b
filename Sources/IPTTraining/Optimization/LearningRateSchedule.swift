/// Linear warm-up from 0 to the peak, then linear decay to 0 at `totalSteps`, as transformers'
/// `get_linear_schedule_with_warmup` (the paper's schedule).
public struct LinearWarmupSchedule: Codable, Sendable, Equatable {
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(warmupSteps: Int, totalSteps: Int) {
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The factor multiplying the peak learning rate at `step` (0-based: the first update uses 0,
    /// as PyTorch's scheduler does before its first `scheduler.step()`).
    public func factor(at step: Int) -> Float {
        if step < warmupSteps { return Float(step) / Float(max(1, warmupSteps)) }
        return max(0, Float(totalSteps - step) / Float(max(1, totalSteps - warmupSteps)))
    }
}
