global using PgVideoChat.Hosting;
global using PgVideoChat.Hosting.ApplicationModel;
global using Microsoft.Extensions.Configuration;
