using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SkyLight.Api.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Channels : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "campaigns",
                columns: table => new
                {
                    id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    workspace_id = table.Column<int>(type: "INTEGER", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    channel_id = table.Column<int>(type: "INTEGER", nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_campaigns", x => x.id);
                    table.ForeignKey(
                        name: "fk_campaigns_workspaces_workspace_id",
                        column: x => x.workspace_id,
                        principalTable: "workspaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "channels",
                columns: table => new
                {
                    id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    workspace_id = table.Column<int>(type: "INTEGER", nullable: false),
                    type = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    unipile_account_id = table.Column<string>(type: "TEXT", nullable: true),
                    username = table.Column<string>(type: "TEXT", nullable: true),
                    is_connected = table.Column<bool>(type: "INTEGER", nullable: false),
                    sync_status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    last_synced_at = table.Column<long>(type: "INTEGER", nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_channels", x => x.id);
                    table.ForeignKey(
                        name: "fk_channels_workspaces_workspace_id",
                        column: x => x.workspace_id,
                        principalTable: "workspaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "remote_deletions",
                columns: table => new
                {
                    id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    unipile_account_id = table.Column<string>(type: "TEXT", nullable: false),
                    requested_at = table.Column<long>(type: "INTEGER", nullable: false),
                    next_attempt_at = table.Column<long>(type: "INTEGER", nullable: false),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    last_error = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_remote_deletions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhook_inbox",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    body = table.Column<string>(type: "TEXT", nullable: false),
                    received_at = table.Column<long>(type: "INTEGER", nullable: false),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    next_attempt_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_inbox", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "connect_attempts",
                columns: table => new
                {
                    id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    workspace_id = table.Column<int>(type: "INTEGER", nullable: false),
                    channel_id = table.Column<int>(type: "INTEGER", nullable: false),
                    channel_type = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    unipile_account_id = table.Column<string>(type: "TEXT", nullable: false),
                    qr_code = table.Column<string>(type: "TEXT", nullable: true),
                    is_reconnect = table.Column<bool>(type: "INTEGER", nullable: false),
                    state = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    started_at = table.Column<long>(type: "INTEGER", nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: false),
                    ended_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_connect_attempts", x => x.id);
                    table.ForeignKey(
                        name: "fk_connect_attempts_channels_channel_id",
                        column: x => x.channel_id,
                        principalTable: "channels",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_campaigns_channel_id",
                table: "campaigns",
                column: "channel_id");

            migrationBuilder.CreateIndex(
                name: "ix_campaigns_workspace_id_status",
                table: "campaigns",
                columns: new[] { "workspace_id", "status" });

            migrationBuilder.CreateIndex(
                name: "ix_channels_unipile_account_id",
                table: "channels",
                column: "unipile_account_id");

            migrationBuilder.CreateIndex(
                name: "ix_channels_workspace_id_type",
                table: "channels",
                columns: new[] { "workspace_id", "type" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_connect_attempts_channel_id",
                table: "connect_attempts",
                column: "channel_id");

            migrationBuilder.CreateIndex(
                name: "ix_connect_attempts_state_expires_at",
                table: "connect_attempts",
                columns: new[] { "state", "expires_at" });

            migrationBuilder.CreateIndex(
                name: "ix_connect_attempts_unipile_account_id",
                table: "connect_attempts",
                column: "unipile_account_id");

            migrationBuilder.CreateIndex(
                name: "ix_connect_attempts_workspace_id_channel_type",
                table: "connect_attempts",
                columns: new[] { "workspace_id", "channel_type" },
                unique: true,
                filter: "state = 'pending'");

            migrationBuilder.CreateIndex(
                name: "ix_remote_deletions_next_attempt_at",
                table: "remote_deletions",
                column: "next_attempt_at");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_inbox_next_attempt_at",
                table: "webhook_inbox",
                column: "next_attempt_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "campaigns");

            migrationBuilder.DropTable(
                name: "connect_attempts");

            migrationBuilder.DropTable(
                name: "remote_deletions");

            migrationBuilder.DropTable(
                name: "webhook_inbox");

            migrationBuilder.DropTable(
                name: "channels");
        }
    }
}
