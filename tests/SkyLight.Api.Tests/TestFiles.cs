namespace SkyLight.Api.Tests;

internal static class TestFiles
{
    public static string NewDatabasePath()
    {
        var folder = Path.Combine(Path.GetTempPath(), "skylight-tests");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, $"{Guid.NewGuid():N}.db");
    }

    /// <summary>The database file with its WAL and shared-memory companions, as SQLite leaves them.</summary>
    public static IEnumerable<string> DatabaseFiles(string path) =>
        new[] { path, path + "-wal", path + "-shm" }.Where(File.Exists);

    public static void DeleteDatabase(string path)
    {
        foreach (var file in DatabaseFiles(path))
        {
            File.Delete(file);
        }
    }

    /// <summary>Every byte of the database files as text, to search for anything that must not be stored.</summary>
    public static string ReadDatabaseBytes(string path) =>
        string.Concat(DatabaseFiles(path).Select(file =>
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
            return reader.ReadToEnd();
        }));
}
