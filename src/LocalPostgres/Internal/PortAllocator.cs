using System.Net;
using System.Net.Sockets;

namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>Finds free TCP ports on the loopback interface.</summary>
internal static class PortAllocator
{
    public static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
