using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SkyLight.Api.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ChannelEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "set_aside_at",
                table: "remote_deletions",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "status_changed_at",
                table: "channels",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "status_reason",
                table: "channels",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            // a channel's status last changed no later than it was last synced (or made): without this, the first
            // sync after the upgrade would look like a change
            migrationBuilder.Sql("UPDATE channels SET status_changed_at = COALESCE(last_synced_at, created_at);");

            migrationBuilder.CreateTable(
                name: "channel_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    workspace_id = table.Column<int>(type: "INTEGER", nullable: false),
                    channel_type = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    channel_id = table.Column<int>(type: "INTEGER", nullable: false),
                    unipile_account_id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    type = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    reason = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    source = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    previous_sync_status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    previous_is_connected = table.Column<bool>(type: "INTEGER", nullable: true),
                    sync_status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    is_connected = table.Column<bool>(type: "INTEGER", nullable: false),
                    occurred_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_channel_events", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_channel_events_occurred_at",
                table: "channel_events",
                column: "occurred_at");

            migrationBuilder.CreateIndex(
                name: "ix_channel_events_workspace_id_id",
                table: "channel_events",
                columns: new[] { "workspace_id", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "channel_events");

            migrationBuilder.DropColumn(
                name: "set_aside_at",
                table: "remote_deletions");

            migrationBuilder.DropColumn(
                name: "status_changed_at",
                table: "channels");

            migrationBuilder.DropColumn(
                name: "status_reason",
                table: "channels");
        }
    }
}
