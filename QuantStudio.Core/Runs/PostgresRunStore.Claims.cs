using Npgsql;

namespace QuantStudio.Core.Runs;

public sealed partial class PostgresRunStore
{
    public Task<RunClaim> ClaimAsync(long runId, string worker, int maxAttempts, TimeSpan staleAfter, DateTimeOffset now,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        var heartbeat = ToMicroseconds(now);
        return InTransactionAsync(async (c, tx, attempt, t) =>
        {
            // The row lock makes two workers claiming the same run take turns: the second sees the first one's claim.
            var run = await GetRunAsync(c, tx, runId, forUpdate: true, t);
            if (run is null)
                return new RunClaim(ClaimOutcome.Ended, 0, null);
            var holder = await HolderAsync(c, tx, runId, t);
            if (!run.Status.IsActive())
                return new RunClaim(ClaimOutcome.Ended, holder.Attempts, run, holder.Worker);
            if (run.Status == RunStatus.Running)
            {
                // An earlier attempt whose commit answer was lost left exactly this claim behind.
                if (attempt > 1 && holder.Worker == worker && holder.HeartbeatAt == heartbeat)
                    return new RunClaim(ClaimOutcome.Claimed, holder.Attempts, run, worker);
                if (holder.Worker is not null && holder.HeartbeatAt is { } beat && beat >= now - staleAfter)
                    return new RunClaim(ClaimOutcome.HeldElsewhere, holder.Attempts, run, holder.Worker);
            }
            if (holder.Attempts >= maxAttempts)
                return new RunClaim(ClaimOutcome.AttemptsExhausted, holder.Attempts, run, holder.Worker);

            await using var cmd = Command(c, tx, $"""
                UPDATE runs SET status = @running, attempts = attempts + 1, worker = @worker, heartbeat_at = @now,
                    started_at = CASE WHEN status = @queued THEN @now ELSE started_at END
                WHERE id = @id
                RETURNING {RunColumns};
                """);
            cmd.Parameters.AddWithValue("running", RunStatus.Running.ToName());
            cmd.Parameters.AddWithValue("queued", RunStatus.Queued.ToName());
            cmd.Parameters.AddWithValue("worker", worker);
            cmd.Parameters.AddWithValue("now", heartbeat);
            cmd.Parameters.AddWithValue("id", runId);
            var claimed = (await ReadRunsAsync(cmd, t)).Single();
            return new RunClaim(ClaimOutcome.Claimed, holder.Attempts + 1, claimed, worker);
        }, ct);
    }

    public Task<bool> HeartbeatAsync(long runId, string worker, DateTimeOffset now, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx, _, t) =>
        {
            await using var cmd = Command(c, tx, "UPDATE runs SET heartbeat_at = @now WHERE id = @id AND status = @running AND worker = @worker;");
            cmd.Parameters.AddWithValue("now", now.ToUniversalTime());
            cmd.Parameters.AddWithValue("id", runId);
            cmd.Parameters.AddWithValue("running", RunStatus.Running.ToName());
            cmd.Parameters.AddWithValue("worker", worker);
            return await cmd.ExecuteNonQueryAsync(t) > 0;
        }, ct);

    public Task<bool> RequestCancelAsync(long runId, CancellationToken ct = default) =>
        InTransactionAsync(async (c, tx, _, t) =>
        {
            await using var cmd = Command(c, tx, "UPDATE runs SET cancel_requested = true WHERE id = @id AND status IN (@queued, @running);");
            cmd.Parameters.AddWithValue("id", runId);
            cmd.Parameters.AddWithValue("queued", RunStatus.Queued.ToName());
            cmd.Parameters.AddWithValue("running", RunStatus.Running.ToName());
            return await cmd.ExecuteNonQueryAsync(t) > 0;
        }, ct);

    public Task<bool> IsCancelRequestedAsync(long runId, CancellationToken ct = default) =>
        WithConnectionAsync(async (c, t) =>
        {
            await using var cmd = Command(c, null, "SELECT cancel_requested FROM runs WHERE id = @id;");
            cmd.Parameters.AddWithValue("id", runId);
            return await cmd.ExecuteScalarAsync(t) is true;
        }, ct);

    private readonly record struct Holder(int Attempts, string? Worker, DateTimeOffset? HeartbeatAt);

    private static async Task<Holder> HolderAsync(NpgsqlConnection c, NpgsqlTransaction tx, long runId, CancellationToken ct)
    {
        await using var cmd = Command(c, tx, "SELECT attempts, worker, heartbeat_at FROM runs WHERE id = @id;");
        cmd.Parameters.AddWithValue("id", runId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new Holder(r.GetInt32(0), r.IsDBNull(1) ? null : r.GetString(1),
            r.IsDBNull(2) ? null : r.GetFieldValue<DateTimeOffset>(2));
    }
}
