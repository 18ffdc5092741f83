using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Replication;

/// <summary>Unhealthy while the replication stream is down or the slot lags more than <c>Relay:MaxSlotLag</c>.</summary>
internal sealed class ReplicationHealthCheck(RelayState state, IOptions<RelayOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["slot"] = ReplicationSlot.NameFor(options.Value.InstanceId),
            ["lagBytes"] = state.SlotLagBytes,
            ["lagSeconds"] = state.SlotLagSeconds,
            ["clients"] = state.ConnectedClients,
        };
        if (!state.StartedUp)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The relay has not prepared its schema and slot yet.", data: data));
        }

        if (!state.StreamConnected)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The replication stream is down.", data: data));
        }

        if (state.SlotLagSeconds > options.Value.MaxSlotLag.TotalSeconds)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(
                $"The slot lags {state.SlotLagSeconds:F1} s (bound {options.Value.MaxSlotLag.TotalSeconds:F0} s).", data: data));
        }

        return Task.FromResult(HealthCheckResult.Healthy("Streaming.", data));
    }
}
