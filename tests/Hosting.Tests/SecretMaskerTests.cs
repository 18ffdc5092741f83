using PgVideoChat.Hosting.Dashboard;

namespace PgVideoChat.Hosting.Tests;

public sealed class SecretMaskerTests
{
    [Theory]
    [InlineData("Host=localhost;Port=5432;Username=postgres;Password=s3cr3t;Database=videochat", "Host=localhost;Port=5432;Username=postgres;Password=********;Database=videochat")]
    [InlineData("Password=s3cr3t", "Password=********")]
    [InlineData("postgresql://postgres:s3cr3t@localhost:5432/videochat", "postgresql://postgres:********@localhost:5432/videochat")]
    [InlineData("http://localhost:5080", "http://localhost:5080")]
    public void Connection_strings_and_uris_lose_their_password(string value, string expected) =>
        Assert.Equal(expected, SecretMasker.MaskConnectionString(value));

    [Theory]
    [InlineData("Relay__Auth__SigningKey", "abc", "********")]
    [InlineData("VIDEOCHAT_PASSWORD", "abc", "********")]
    [InlineData("ConnectionStrings__videochat", "Host=h;Password=abc", "Host=h;Password=********")]
    [InlineData("OTEL_SERVICE_NAME", "relay", "relay")]
    public void Environment_values_are_masked_by_name(string name, string value, string expected) =>
        Assert.Equal(expected, SecretMasker.MaskValue(name, value));
}
