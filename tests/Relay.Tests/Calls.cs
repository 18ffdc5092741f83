using System.Text.Json;

namespace PgVideoChat.Relay.Tests;

/// <summary>Call set-up through the real protocol.</summary>
internal static class Calls
{
    /// <summary>The caller invites the callees, each accepts, and everyone sees the call active.</summary>
    public static async Task<long> EstablishAsync(RelayTestClient caller, CancellationToken cancellationToken, params RelayTestClient[] callees)
    {
        var callId = await caller.InviteAsync(cancellationToken, [.. callees.Select(c => c.UserId)]);
        foreach (var callee in callees)
        {
            await callee.WaitForAsync(m => IsCall(m, callId, "ringing"), cancellationToken);
            await callee.AcceptAsync(callId, cancellationToken);
        }

        foreach (var participant in callees.Prepend(caller))
        {
            await participant.WaitForAsync(m => IsCall(m, callId, "active") && JoinedCount(m) == callees.Length + 1, cancellationToken);
        }

        return callId;
    }

    public static bool IsCall(JsonElement message, long callId, string state)
        => RelayTestClient.Type(message) == "call" && message.GetProperty("callId").GetInt64() == callId
            && message.GetProperty("state").GetString() == state;

    public static int JoinedCount(JsonElement call)
        => call.GetProperty("participants").EnumerateArray().Count(p => p.GetProperty("state").GetString() == "joined");
}
