using System.Buffers;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using PgVideoChat.LoadTests.Stats;
using PgVideoChat.Relay.Schema;

namespace PgVideoChat.LoadTests.Substrate;

/// <summary>A plain pgoutput reader on a temporary slot: reads every frame row (payload included) and acknowledges each commit.</summary>
internal sealed class BaselineReader(string connectionString, int protocolVersion)
{
    private readonly Dictionary<long, PhaseCounters> _phases = [];
    private readonly Lock _gate = new();

    public string SlotName { get; } = "loadtest_baseline_" + Guid.NewGuid().ToString("N")[..8];

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Track(PhaseCounters counters)
    {
        lock (_gate)
        {
            _phases[counters.CallId] = counters;
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new LogicalReplicationConnection(connectionString) { WalReceiverStatusInterval = TimeSpan.FromSeconds(1) };
            await connection.Open(cancellationToken);
            var slot = await connection.CreatePgOutputReplicationSlot(SlotName, temporarySlot: true, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport, cancellationToken: cancellationToken);
            var options = new PgOutputReplicationOptions(Publications.All, (PgOutputProtocolVersion)protocolVersion, binary: true);
            var buffer = ArrayPool<byte>.Shared.Rent(ProtocolLimitsBuffer);
            try
            {
                var stream = connection.StartReplication(slot, options, cancellationToken);
                Started.TrySetResult();
                await foreach (var message in stream)
                {
                    switch (message)
                    {
                        case InsertMessage insert when insert.Relation.RelationName is Tables.VideoFrames or Tables.AudioFrames:
                            await ReadFrameAsync(insert.NewRow, buffer, cancellationToken);
                            break;
                        case InsertMessage insert:
                            await foreach (var value in insert.NewRow.WithCancellation(cancellationToken))
                            {
                                if (!value.IsDBNull && !value.IsUnchangedToastedValue)
                                {
                                    await value.Get(cancellationToken);
                                }
                            }

                            break;
                        case CommitMessage commit:
                            connection.SetReplicationStatus(commit.TransactionEndLsn);
                            break;
                        default:
                            break;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || (ex is NpgsqlException && cancellationToken.IsCancellationRequested))
        {
        }
        catch (Exception ex)
        {
            Started.TrySetException(ex);
            throw;
        }
    }

    private const int ProtocolLimitsBuffer = 1024 * 1024;

    private async Task ReadFrameAsync(ReplicationTuple row, byte[] buffer, CancellationToken cancellationToken)
    {
        long callId = 0, capture = 0, bytes = 0;
        var column = 0;
        await foreach (var value in row.WithCancellation(cancellationToken))
        {
            switch (column++)
            {
                case 0:
                    callId = await value.Get<long>(cancellationToken);
                    break;
                case 3:
                    capture = await value.Get<long>(cancellationToken);
                    break;
                case 7:
                    bytes = value.Length;
                    await using (var payload = value.GetStream())
                    {
                        await payload.ReadExactlyAsync(buffer.AsMemory(0, (int)Math.Min(bytes, buffer.Length)), cancellationToken);
                    }

                    break;
                default:
                    if (!value.IsDBNull)
                    {
                        await value.Get(cancellationToken);
                    }

                    break;
            }
        }

        PhaseCounters? counters;
        lock (_gate)
        {
            _phases.TryGetValue(callId, out counters);
        }

        counters?.OnDecoded(bytes, Clock.NowMicros - capture);
    }
}
