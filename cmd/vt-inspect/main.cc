// vt-inspect: sees and queries the live distribution trees from a terminal.
//
//   vt-inspect status HOST:PORT              one node's state
//   vt-inspect tree HOST:PORT [--json|--dot] every stripe's tree, walked from any node
//   vt-inspect events HOST:PORT              the node's events as JSON lines
//   vt-inspect call HOST:PORT Inspect.status any method, JSON in and out
#include "lib/inspect/inspect_app.h"
#include "lib/kernel/cli.h"

int main(int argc, char** argv) {
  peers::ToolCli cli("vt-inspect", "Sees and queries the live distribution trees of a stream.",
                     "vt-inspect tree host:7000");
  vt::InspectAppOptions options;
  vt::add_inspect_commands(cli.app(), options);
  return cli.run(argc, argv, [&] { return vt::run_inspect_app(cli.app(), options); });
}
