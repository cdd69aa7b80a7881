namespace QuantStudio.Torch;

public static unsafe partial class torch
{
    public static partial class nn
    {
        /// <summary>
        /// In-place initializers with PyTorch's formulas (<c>torch.nn.init</c>). They run under no_grad,
        /// so they may be applied to parameters that require gradients.
        /// </summary>
        public static class init
        {
            public enum FanMode
            {
                FanIn,
                FanOut,
            }

            public enum Nonlinearity
            {
                Linear,
                Conv2d,
                Sigmoid,
                Tanh,
                ReLU,
                LeakyReLU,
            }

            /// <summary>The recommended gain for a nonlinearity (PyTorch's calculate_gain).</summary>
            public static double calculate_gain(Nonlinearity nonlinearity, double param = 0.01) => nonlinearity switch
            {
                Nonlinearity.Linear or Nonlinearity.Conv2d or Nonlinearity.Sigmoid => 1.0,
                Nonlinearity.Tanh => 5.0 / 3.0,
                Nonlinearity.ReLU => Math.Sqrt(2.0),
                Nonlinearity.LeakyReLU => Math.Sqrt(2.0 / (1 + param * param)),
                _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity), nonlinearity, "unknown nonlinearity"),
            };

            /// <summary>
            /// (fan_in, fan_out) of a weight: input and output feature maps times the receptive field
            /// (the product of the dimensions after the first two).
            /// </summary>
            public static (long fan_in, long fan_out) calculate_fan_in_and_fan_out(Tensor tensor)
            {
                var shape = tensor.shape;
                if (shape.Length < 2)
                    throw new ArgumentException($"fan in and fan out need a tensor with at least 2 dimensions, got {shape.Length}", nameof(tensor));
                long receptive = 1;
                for (var i = 2; i < shape.Length; i++)
                    receptive *= shape[i];
                return (shape[1] * receptive, shape[0] * receptive);
            }

            /// <summary>U(−bound, bound) with bound = gain·√(3 / fan): He initialization. PyTorch's layers use a = √5.</summary>
            public static Tensor kaiming_uniform_(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyReLU)
            {
                var (fanIn, fanOut) = calculate_fan_in_and_fan_out(tensor);
                var fan = mode == FanMode.FanIn ? fanIn : fanOut;
                if (fan == 0)
                    return tensor;
                var bound = calculate_gain(nonlinearity, a) * Math.Sqrt(3.0 / fan);
                return uniform_(tensor, -bound, bound);
            }

            /// <summary>N(0, std²) with std = gain / √fan.</summary>
            public static Tensor kaiming_normal_(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyReLU)
            {
                var (fanIn, fanOut) = calculate_fan_in_and_fan_out(tensor);
                var fan = mode == FanMode.FanIn ? fanIn : fanOut;
                if (fan == 0)
                    return tensor;
                return normal_(tensor, 0, calculate_gain(nonlinearity, a) / Math.Sqrt(fan));
            }

            public static Tensor uniform_(Tensor tensor, double low = 0, double high = 1)
            {
                if (!(low <= high))
                    throw new ArgumentException($"uniform_ needs low <= high, got low={low}, high={high}", nameof(low));
                using var noGrad = no_grad();
                return tensor.uniform_(low, high);
            }

            public static Tensor normal_(Tensor tensor, double mean = 0, double std = 1)
            {
                if (!(std >= 0))
                    throw new ArgumentOutOfRangeException(nameof(std), std, "standard deviation must be >= 0");
                using var noGrad = no_grad();
                return tensor.normal_(mean, std);
            }

            public static Tensor constant_(Tensor tensor, double value)
            {
                using var noGrad = no_grad();
                return tensor.fill_(value);
            }

            public static Tensor zeros_(Tensor tensor) => constant_(tensor, 0);
            public static Tensor ones_(Tensor tensor) => constant_(tensor, 1);
        }
    }
}
