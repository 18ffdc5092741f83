using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Calls;
using PgVideoChat.Relay.FanOut;
using PgVideoChat.Relay.Schema;
using PgVideoChat.Relay.Sharding;
using PgVideoChat.Relay.Telemetry;
using PgVideoChat.Relay.Transport;

namespace PgVideoChat.Relay.Replication;

/// <summary>
/// Turns pgoutput rows (binary format) of the publication's tables into events for fan-out. Columns are read by
/// name, in order, exactly once, as the replication stream requires; media payloads are read straight into the
/// pooled buffer that every recipient then shares.
/// </summary>
internal sealed class ReplicationRowDispatcher(FanOutRouter router, RecipientShards recipientShards, RelayMetrics metrics)
{
    public async ValueTask DispatchAsync(RelationMessage relation, ReplicationTuple row, DateTime commitTime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(relation);
        ArgumentNullException.ThrowIfNull(row);
        var table = relation.RelationName;
        metrics.RowReceived(table);
        switch (table)
        {
            case Tables.VideoFrames:
                await MediaAsync(MediaKind.Video, row, commitTime, cancellationToken);
                break;
            case Tables.AudioFrames:
                await MediaAsync(MediaKind.Audio, row, commitTime, cancellationToken);
                break;
            case Tables.ChatMessages:
                router.Chat(await ChatAsync(row, cancellationToken));
                break;
            case Tables.Calls:
                router.Call(await CallAsync(row, cancellationToken));
                break;
            case Tables.Presence:
                var presence = await PresenceAsync(row, cancellationToken);
                if (!presence.Online)
                {
                    recipientShards.Offline(presence.UserId, commitTime);
                }

                router.Presence(presence);
                break;
            case Tables.MediaQuality:
                await QualityAsync(row, cancellationToken);
                break;
            case Tables.Connections:
                // Only in the control publication of shard routing: where a user has just connected.
                await ConnectionAsync(row, cancellationToken);
                break;
            default:
                await SkipAsync(row, cancellationToken);
                break;
        }
    }

    private async ValueTask MediaAsync(MediaKind kind, ReplicationTuple row, DateTime commitTime, CancellationToken cancellationToken)
    {
        long callId = 0, senderId = 0, sequence = 0, captureUs = 0, receivedUs = 0;
        int widthOrChannels = 0, heightOrSampleRate = 0;
        OutboundFrame? frame = null;
        MediaRoute route = default;
        try
        {
            await foreach (var value in row.WithCancellation(cancellationToken))
            {
                switch (value.GetFieldName())
                {
                    case FrameColumns.CallId: callId = await value.Get<long>(cancellationToken); break;
                    case FrameColumns.SenderId: senderId = await value.Get<long>(cancellationToken); break;
                    case FrameColumns.Sequence: sequence = await value.Get<long>(cancellationToken); break;
                    case FrameColumns.CaptureUs: captureUs = await value.Get<long>(cancellationToken); break;
                    case FrameColumns.ReceivedUs: receivedUs = await value.Get<long>(cancellationToken); break;
                    case VideoFrameColumns.Width or AudioFrameColumns.Channels: widthOrChannels = await value.Get<int>(cancellationToken); break;
                    case VideoFrameColumns.Height or AudioFrameColumns.SampleRate: heightOrSampleRate = await value.Get<int>(cancellationToken); break;
                    case FrameColumns.Payload:
                        // The call and sender columns precede the payload in the table, so they are known here.
                        route = router.RouteMedia(callId, senderId);
                        if (!route.HasLocalRecipient)
                        {
                            metrics.FrameSkipped(kind);
                            await SkipValueAsync(value, cancellationToken);
                            break;
                        }

                        frame = new OutboundFrame(kind, MediaFrameHeader.Size + value.Length);
                        await using (var stream = value.GetStream())
                        {
                            await stream.ReadExactlyAsync(frame.Memory[MediaFrameHeader.Size..], cancellationToken);
                        }

                        break;
                    default:
                        await SkipValueAsync(value, cancellationToken);
                        break;
                }
            }

            if (frame is null)
            {
                return;
            }

            var header = kind == MediaKind.Video
                ? MediaFrameHeader.Video((uint)sequence, callId, captureUs, (ushort)widthOrChannels, (ushort)heightOrSampleRate, senderId)
                : MediaFrameHeader.Audio((uint)sequence, callId, captureUs, (ushort)widthOrChannels, (uint)heightOrSampleRate, senderId);
            header.Write(frame.Memory.Span);
            frame.ReceivedMicros = receivedUs;
            router.Media(frame, route, commitTime);
        }
        finally
        {
            // The router took its own references; this one was the reader's.
            frame?.Release();
        }
    }

    private static async ValueTask<ChatEntry> ChatAsync(ReplicationTuple row, CancellationToken cancellationToken)
    {
        long id = 0, from = 0;
        long? callId = null, to = null;
        string fromName = string.Empty, text = string.Empty;
        string? clientMsgId = null;
        var sentAt = DateTime.UtcNow;
        await foreach (var value in row.WithCancellation(cancellationToken))
        {
            switch (value.GetFieldName())
            {
                case ChatColumns.Id: id = await value.Get<long>(cancellationToken); break;
                case ChatColumns.CallId: callId = value.IsDBNull ? null : await value.Get<long>(cancellationToken); break;
                case ChatColumns.ToUser: to = value.IsDBNull ? null : await value.Get<long>(cancellationToken); break;
                case ChatColumns.FromUser: from = await value.Get<long>(cancellationToken); break;
                case ChatColumns.FromName: fromName = await value.Get<string>(cancellationToken); break;
                case ChatColumns.Body: text = await value.Get<string>(cancellationToken); break;
                case ChatColumns.ClientMsgId: clientMsgId = value.IsDBNull ? null : await value.Get<string>(cancellationToken); break;
                case ChatColumns.SentAt: sentAt = await value.Get<DateTime>(cancellationToken); break;
                default: await SkipValueAsync(value, cancellationToken); break;
            }
        }

        return new ChatEntry(id, callId, to, from, fromName, text, clientMsgId, sentAt);
    }

    private static async ValueTask<CallSnapshot> CallAsync(ReplicationTuple row, CancellationToken cancellationToken)
    {
        long id = 0, createdBy = 0, version = 0;
        string kind = string.Empty, state = string.Empty, participants = "[]";
        string? recording = null;
        var updatedAt = DateTime.UtcNow;
        await foreach (var value in row.WithCancellation(cancellationToken))
        {
            switch (value.GetFieldName())
            {
                case CallColumns.Id: id = await value.Get<long>(cancellationToken); break;
                case CallColumns.Kind: kind = await value.Get<string>(cancellationToken); break;
                case CallColumns.State: state = await value.Get<string>(cancellationToken); break;
                case CallColumns.CreatedBy: createdBy = await value.Get<long>(cancellationToken); break;
                case CallColumns.Version: version = await value.Get<long>(cancellationToken); break;
                case CallColumns.UpdatedAt: updatedAt = await value.Get<DateTime>(cancellationToken); break;
                case CallColumns.Participants: participants = await value.Get<string>(cancellationToken); break;
                case CallColumns.Recording: recording = value.IsDBNull ? null : await value.Get<string>(cancellationToken); break;
                default: await SkipValueAsync(value, cancellationToken); break;
            }
        }

        return new CallSnapshot(id, kind, state, createdBy, version, updatedAt, CallRows.ParseParticipants(participants), CallRows.ParseRecording(recording));
    }

    private static async ValueTask<PresenceMessage> PresenceAsync(ReplicationTuple row, CancellationToken cancellationToken)
    {
        long userId = 0;
        var displayName = string.Empty;
        var online = false;
        await foreach (var value in row.WithCancellation(cancellationToken))
        {
            switch (value.GetFieldName())
            {
                case PresenceColumns.UserId: userId = await value.Get<long>(cancellationToken); break;
                case PresenceColumns.DisplayName: displayName = await value.Get<string>(cancellationToken); break;
                case PresenceColumns.Online: online = await value.Get<bool>(cancellationToken); break;
                default: await SkipValueAsync(value, cancellationToken); break;
            }
        }

        return new PresenceMessage(userId, displayName, online);
    }

    private async ValueTask QualityAsync(ReplicationTuple row, CancellationToken cancellationToken)
    {
        long callId = 0, senderId = 0;
        var level = 0;
        string reason = string.Empty, relayId = string.Empty;
        await foreach (var value in row.WithCancellation(cancellationToken))
        {
            switch (value.GetFieldName())
            {
                case MediaQualityColumns.CallId: callId = await value.Get<long>(cancellationToken); break;
                case MediaQualityColumns.SenderId: senderId = await value.Get<long>(cancellationToken); break;
                case MediaQualityColumns.Level: level = await value.Get<int>(cancellationToken); break;
                case MediaQualityColumns.Reason: reason = await value.Get<string>(cancellationToken); break;
                case MediaQualityColumns.RelayId: relayId = await value.Get<string>(cancellationToken); break;
                default: await SkipValueAsync(value, cancellationToken); break;
            }
        }

        router.Quality(callId, senderId, level, reason, relayId);
    }

    private async ValueTask ConnectionAsync(ReplicationTuple row, CancellationToken cancellationToken)
    {
        long userId = 0;
        int? shard = null;
        await foreach (var value in row.WithCancellation(cancellationToken))
        {
            switch (value.GetFieldName())
            {
                case ConnectionColumns.UserId: userId = await value.Get<long>(cancellationToken); break;
                case ConnectionColumns.RelayShard: shard = value.IsDBNull ? null : await value.Get<int>(cancellationToken); break;
                default: await SkipValueAsync(value, cancellationToken); break;
            }
        }

        recipientShards.Connected(userId, shard);
    }

    private static async ValueTask SkipAsync(ReplicationTuple row, CancellationToken cancellationToken)
    {
        await foreach (var value in row.WithCancellation(cancellationToken))
        {
            await SkipValueAsync(value, cancellationToken);
        }
    }

    private static async ValueTask SkipValueAsync(ReplicationValue value, CancellationToken cancellationToken)
    {
        if (!value.IsDBNull && !value.IsUnchangedToastedValue)
        {
            await value.Get(cancellationToken);
        }
    }
}
