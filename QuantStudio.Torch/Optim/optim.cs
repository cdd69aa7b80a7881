using QuantStudio.Torch.Optim;

namespace QuantStudio.Torch;

public static unsafe partial class torch
{
    /// <summary>Optimizer factories with TorchSharp's names: <c>torch.optim.SGD(model.parameters(), lr: 0.1, momentum: 0.9)</c>.</summary>
    public static partial class optim
    {
        public static SGD SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
            bool nesterov = false, bool maximize = false) =>
            new([new ParamGroupSpec(parameters)], lr, momentum, dampening, weight_decay, nesterov, maximize);

        /// <summary>Several groups; options a group leaves unset take the values given here.</summary>
        public static SGD SGD(IEnumerable<ParamGroupSpec> param_groups, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
            bool nesterov = false, bool maximize = false) =>
            new(param_groups, lr, momentum, dampening, weight_decay, nesterov, maximize);

        public static Adam Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
            double weight_decay = 0, bool amsgrad = false, bool maximize = false) =>
            new([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weight_decay, amsgrad, maximize);

        public static Adam Adam(IEnumerable<ParamGroupSpec> param_groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
            double weight_decay = 0, bool amsgrad = false, bool maximize = false) =>
            new(param_groups, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize);

        public static AdamW AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
            double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false) =>
            new([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weight_decay, amsgrad, maximize);

        public static AdamW AdamW(IEnumerable<ParamGroupSpec> param_groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
            double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false) =>
            new(param_groups, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize);
    }
}
