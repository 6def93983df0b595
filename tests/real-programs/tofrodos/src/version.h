/*
	version.h	Version number header.
	Copyright 1996-2013 Christopher Heng. All rights reserved.
*/

#if !defined(VERSION_H_INCLUDED)
#define	VERSION_H_INCLUDED

/* macros */
#define	VERSN_MAJOR	1
#define	VERSN_MINOR	7
#define	VERSN_PATCH	13

#define	VERSN_PROGNAME	"tofrodos"

#endif
