namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>
/// The password of a persistent cluster: the one kept beside its data directory, or a new one (written there) for a
/// cluster that initdb is about to make.
/// </summary>
internal sealed class PasswordFileParameterDefault(string path, GenerateParameterDefault generate) : ParameterDefault
{
    public override string GetDefaultValue()
    {
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }

        var password = generate.GetDefaultValue();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, password);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return password;
    }

    public override void WriteToManifest(Aspire.Hosting.Publishing.ManifestPublishingContext context) => generate.WriteToManifest(context);
}
