using QuantStudio.Core.Engine;

namespace QuantStudio.Web.Runs;

/// <summary>
/// The server keeps freed native memory for reuse while it trains (as `quantstudio train` does: without it the same
/// quantized-distillation epochs took 4.3–5.4 s instead of 2.6–2.9 s, docs/engine.md) and hands it back once no run trains.
/// </summary>
public static class TrainingMemory
{
    private static readonly Lock Gate = new();
    private static int running;

    public static void RunStarted()
    {
        lock (Gate)
        {
            if (running++ == 0)
                NativeMemory.RetainFreedMemory();
        }
    }

    public static void RunEnded()
    {
        lock (Gate)
        {
            if (--running == 0)
                NativeMemory.ReleaseFreedMemory();
        }
    }
}
