using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace PgVideoChat.Relay.Limits;

/// <summary>
/// Per-user limits on the requests that write a row or notify somebody (configuration <c>Relay:Limits</c>;
/// docs/protocol.md, section 3.3). Each is a token bucket: <see cref="TokenBucketOptions.Burst"/> at once, then
/// <see cref="TokenBucketOptions.Tokens"/> per <see cref="TokenBucketOptions.Period"/>. The defaults are far above
/// what a person does (a fast typist sends a message a second) and far below what hurts anybody else.
/// </summary>
internal sealed class RequestLimitOptions
{
    /// <summary><c>chat.send</c>: 20 at once, then 5 a second, so one sender can never fill a recipient's control queue.</summary>
    [Required]
    [ValidateObjectMembers]
    public TokenBucketOptions Chat { get; set; } = new() { Burst = 20, Tokens = 5, Period = TimeSpan.FromSeconds(1) };

    /// <summary>
    /// People rung by <c>call.invite</c> (one token per invitee) and <c>call.add</c>: two full groups of 8 at once,
    /// then one person every 3 s.
    /// </summary>
    [Required]
    [ValidateObjectMembers]
    public TokenBucketOptions Ring { get; set; } = new() { Burst = 14, Tokens = 1, Period = TimeSpan.FromSeconds(3) };

    /// <summary><c>call.accept</c>, <c>call.decline</c>, <c>call.hangup</c>, <c>media.state</c>: each one is a <c>call</c> event to every participant.</summary>
    [Required]
    [ValidateObjectMembers]
    public TokenBucketOptions CallChange { get; set; } = new() { Burst = 20, Tokens = 4, Period = TimeSpan.FromSeconds(1) };

    /// <summary><c>chat.history</c>: a read of up to 100 messages each.</summary>
    [Required]
    [ValidateObjectMembers]
    public TokenBucketOptions History { get; set; } = new() { Burst = 10, Tokens = 2, Period = TimeSpan.FromSeconds(1) };

    /// <summary>WebSocket connects: a user's first connection and last disconnection are a <c>presence</c> event to everybody online.</summary>
    [Required]
    [ValidateObjectMembers]
    public TokenBucketOptions Connect { get; set; } = new() { Burst = 10, Tokens = 1, Period = TimeSpan.FromSeconds(2) };

    /// <summary>
    /// <c>POST /api/sessions</c> per client address: a classroom of 30 behind one NAT signs in at once, then one sign-in
    /// every 2 s; one address cannot create thousands of users.
    /// </summary>
    [Required]
    [ValidateObjectMembers]
    public TokenBucketOptions SignIn { get; set; } = new() { Burst = 30, Tokens = 30, Period = TimeSpan.FromMinutes(1) };

    /// <summary><c>POST /api/sessions/refresh</c> per client address (a client refreshes once per token lifetime).</summary>
    [Required]
    [ValidateObjectMembers]
    public TokenBucketOptions Refresh { get; set; } = new() { Burst = 30, Tokens = 30, Period = TimeSpan.FromMinutes(1) };

    /// <summary>Open WebSockets of one user on one relay (tabs, devices).</summary>
    [Range(1, 10_000)]
    public int ConnectionsPerUser { get; set; } = 10;

    /// <summary>Refused requests within one second after which a connection is closed as flooding (4429).</summary>
    [Range(1, 100_000)]
    public int FloodRefusals { get; set; } = 50;
}

/// <summary>One token bucket.</summary>
internal sealed class TokenBucketOptions
{
    [Range(1, 1_000_000)]
    public int Burst { get; set; }

    [Range(1, 1_000_000)]
    public int Tokens { get; set; }

    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan Period { get; set; }

    public override string ToString() => $"{Burst} at once, then {Tokens} per {Period.TotalSeconds:0.#} s";
}
