/* Stand-in for <zephyr/devicetree.h> (tests only): the same token pasting as Zephyr's,
 * over DT_N_... macros that a test defines on the command line. */
#ifndef MCUFORGE_STUB_ZEPHYR_DEVICETREE_H
#define MCUFORGE_STUB_ZEPHYR_DEVICETREE_H

#define Z_IS_ENABLED1(config_macro) Z_IS_ENABLED2(_XXXX##config_macro)
#define _XXXX1 _YYYY,
#define Z_IS_ENABLED2(one_or_two_args) Z_IS_ENABLED3(one_or_two_args 1, 0)
#define Z_IS_ENABLED3(ignore_this, val, ...) val
#define IS_ENABLED(config_macro) Z_IS_ENABLED1(config_macro)

#define DT_CAT(a1, a2) a1##a2
#define DT_CAT3(a1, a2, a3) a1##a2##a3
#define DT_CAT4(a1, a2, a3, a4) a1##a2##a3##a4
#define DT_ALIAS(alias) DT_CAT(DT_N_ALIAS_, alias)
#define DT_CHOSEN(prop) DT_CAT(DT_N_CHOSEN_, prop)
#define DT_PATH(a, b) DT_CAT4(DT_N_S_, a, _S_, b)
#define DT_NODE_EXISTS(node_id) IS_ENABLED(DT_CAT(node_id, _EXISTS))
#define DT_NODE_HAS_PROP(node_id, prop) IS_ENABLED(DT_CAT4(node_id, _P_, prop, _EXISTS))
#define DT_PROP(node_id, prop) DT_CAT3(node_id, _P_, prop)

/* every build has a console */
#define DT_N_CHOSEN_zephyr_console DT_N_S_uart0
#define DT_N_S_uart0_EXISTS 1

#endif
