namespace QuantStudio.Core.Distributed;

/// <summary>
/// The shared store (or the artifact store) failed for good while a worker stored a run's events or files, after the store's
/// own retries. The worker stops without acknowledging the delivery: the run is then taken up again, by this worker once it
/// restarts or by another, from what was stored, rather than acknowledged with events missing.
/// </summary>
public sealed class WorkerStoreException(string message, Exception inner) : Exception(message, inner);
