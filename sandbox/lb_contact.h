/*
 * sandbox/lb_contact.h: the `tm.contact` library (see lb_contact.c): the
 * channel and the moment most likely to reach a consumer, from a contact
 * model in the script tree, among the moments the gate allows.
 */
#ifndef TM_LB_CONTACT_H
#define TM_LB_CONTACT_H

/* Registers tm.contact for every sandbox created afterwards (call once,
 * before the first sandbox). */
void tm_lb_contact_register(void);

#endif
