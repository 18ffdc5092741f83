namespace PgVideoChat.Relay.Connections;

/// <summary><c>GET /ws?access_token=…</c>: one client connection, run by <see cref="ClientConnectionHandler"/>.</summary>
internal static class WebSocketEndpoint
{
    public static IEndpointRouteBuilder MapClientWebSocket(this IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/ws", static (HttpContext context, ClientConnectionHandler handler) => handler.HandleAsync(context));
        return endpoints;
    }
}
