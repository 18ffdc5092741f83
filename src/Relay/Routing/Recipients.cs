using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Routing;

internal enum RecipientRule
{
    None,
    Pair,
    AllParticipants,
    JoinedExceptSender,
    JoinedOrSender,
}

/// <summary>
/// The ids of the users a row goes to, as <see cref="Audience"/> decided.
/// A struct with a struct enumerator, so that routing a frame allocates nothing.
/// </summary>
internal readonly struct Recipients
{
    private readonly IReadOnlyList<CallParticipant>? _participants;
    private readonly long _user;
    private readonly long _otherUser;

    private Recipients(RecipientRule rule, IReadOnlyList<CallParticipant>? participants, long user, long otherUser)
    {
        Rule = rule;
        _participants = participants;
        _user = user;
        _otherUser = otherUser;
    }

    public static Recipients None => default;

    public RecipientRule Rule { get; }

    public static Recipients Pair(long user, long otherUser) => new(RecipientRule.Pair, null, user, otherUser);

    public static Recipients Participants(IReadOnlyList<CallParticipant> participants, RecipientRule rule, long senderId)
        => new(rule, participants, senderId, 0);

    public Enumerator GetEnumerator() => new(this);

    /// <summary>The ids as a list, for tests and diagnostics (routing enumerates instead).</summary>
    public List<long> ToList()
    {
        var ids = new List<long>();
        foreach (var id in this)
        {
            ids.Add(id);
        }

        return ids;
    }

    public struct Enumerator
    {
        private readonly Recipients _recipients;
        private int _index;

        internal Enumerator(Recipients recipients)
        {
            _recipients = recipients;
            _index = -1;
        }

        public long Current { get; private set; }

        public bool MoveNext()
        {
            var r = _recipients;
            switch (r.Rule)
            {
                case RecipientRule.Pair:
                    _index++;
                    Current = _index == 0 ? r._user : r._otherUser;
                    return _index == 0 || (_index == 1 && r._otherUser != r._user);
                case RecipientRule.AllParticipants or RecipientRule.JoinedExceptSender or RecipientRule.JoinedOrSender:
                    var participants = r._participants!;
                    while (++_index < participants.Count)
                    {
                        var participant = participants[_index];
                        if (Receives(r.Rule, participant, r._user))
                        {
                            Current = participant.UserId;
                            return true;
                        }
                    }

                    return false;
                default:
                    return false;
            }
        }

        private static bool Receives(RecipientRule rule, CallParticipant participant, long senderId) => rule switch
        {
            RecipientRule.AllParticipants => true,
            RecipientRule.JoinedExceptSender => participant.UserId != senderId && participant.State == ParticipantStates.Joined,
            _ => participant.State == ParticipantStates.Joined || participant.UserId == senderId,
        };
    }
}
