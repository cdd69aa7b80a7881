namespace QuantStudio.Torch.Modules;

/// <summary>Conversions that return the module with its own type, so <c>nn.Linear(2, 3).to(torch.float64)</c> stays a Linear.</summary>
public static class ModuleExtensions
{
    /// <summary>Rewrites conv weights (every 4-d parameter and buffer) in <paramref name="format"/>, keeping tensor identity.</summary>
    public static T to<T>(this T module, MemoryFormat format) where T : Module
    {
        module.ConvertMemoryFormat(format);
        return module;
    }

    /// <summary>Converts floating-point parameters and buffers to <paramref name="type"/>, keeping tensor identity.</summary>
    public static T to<T>(this T module, ScalarType type) where T : Module
    {
        module.ConvertDtype(type);
        return module;
    }

    public static T to<T>(this T module, Device device) where T : Module
    {
        module.ConvertDevice(device);
        return module;
    }
}
