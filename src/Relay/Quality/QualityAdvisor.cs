using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using PgVideoChat.Relay.Schema;
using PgVideoChat.Relay.Telemetry;
using PgVideoChat.Relay.Transport;

namespace PgVideoChat.Relay.Quality;

/// <summary>
/// Once a tick, looks at the frames this relay dropped per (call, sender), lets each sender's governor decide its
/// step, and writes each change (and, every <see cref="QualityOptions.RenewEvery"/>, each step above 0) as a row of
/// <c>media_quality</c>. The row reaches the sender through its relay's slot, whichever relay that is.
/// </summary>
internal sealed class QualityAdvisor(
    FrameDropTally drops,
    NpgsqlDataSource dataSource,
    RelayState state,
    RelayMetrics metrics,
    IOptions<RelayOptions> options,
    TimeProvider time,
    ILogger<QualityAdvisor> logger) : BackgroundService
{
    private const string Insert =
        $"INSERT INTO {Tables.MediaQuality} ({MediaQualityColumns.CallId}, {MediaQualityColumns.SenderId}, {MediaQualityColumns.RelayId}, {MediaQualityColumns.Level}, {MediaQualityColumns.Reason}) " +
        "SELECT call, sender, $3, level, reason FROM unnest($1::bigint[], $2::bigint[], $4::int[], $5::text[]) AS a(call, sender, level, reason)";

    private const string Expire = $"DELETE FROM {Tables.MediaQuality} WHERE decided_at < now() - interval '10 minutes'";

    private readonly Dictionary<(long CallId, long SenderId), (SenderQualityGovernor Governor, TimeSpan Advised)> _senders = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var quality = options.Value.Quality;
        if (!quality.Enabled)
        {
            return;
        }

        await state.WhenStartedUp.WaitAsync(stoppingToken);
        var start = time.GetTimestamp();
        var expired = TimeSpan.Zero;
        using var timer = new PeriodicTimer(quality.Tick, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = time.GetElapsedTime(start);
            var advice = Decide(now, drops.TakeAll(), quality);
            try
            {
                if (advice.Count > 0)
                {
                    await WriteAsync(advice, stoppingToken);
                }

                // Old advice goes every ten minutes, whatever the tick.
                if (now - expired >= TimeSpan.FromMinutes(10))
                {
                    expired = now;
                    await using var expire = dataSource.CreateCommand(Expire);
                    await expire.ExecuteNonQueryAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                Log.QualityAdviceFailed(logger, ex);
            }
        }
    }

    private List<(long CallId, long SenderId, int Level, string Reason)> Decide(TimeSpan now, Dictionary<(long CallId, long SenderId), int> dropped, QualityOptions quality)
    {
        foreach (var key in dropped.Keys)
        {
            if (!_senders.ContainsKey(key))
            {
                _senders[key] = (new SenderQualityGovernor(quality), TimeSpan.MinValue);
            }
        }

        var advice = new List<(long, long, int, string)>();
        foreach (var (key, (governor, advised)) in _senders.ToList())
        {
            var before = governor.Level;
            if (governor.Observe(now, dropped.GetValueOrDefault(key)) is { } level)
            {
                metrics.QualityStep(down: level > before);
                Log.QualityStepped(logger, key.SenderId, key.CallId, level, governor.Reason);
                advice.Add((key.CallId, key.SenderId, level, governor.Reason));
                _senders[key] = (governor, now);
            }
            else if (governor.Level > 0 && now - advised >= quality.RenewEvery)
            {
                advice.Add((key.CallId, key.SenderId, governor.Level, governor.Reason));
                _senders[key] = (governor, now);
            }
            else if (governor.IdleSince(now))
            {
                _senders.Remove(key);
            }
        }

        return advice;
    }

    private async Task WriteAsync(List<(long CallId, long SenderId, int Level, string Reason)> advice, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Insert);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. advice.Select(static a => a.CallId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. advice.Select(static a => a.SenderId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = options.Value.InstanceId });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. advice.Select(static a => a.Level)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. advice.Select(static a => a.Reason)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
