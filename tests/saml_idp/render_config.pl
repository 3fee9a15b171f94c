#!/usr/bin/perl
# Renders the test IdP's configuration into DIR (called by start_idp.sh; see its header).
#   DIR/lemonldap-ng.ini     from lemonldap-ng.ini.in
#   DIR/users.db             from users.sql (only when RENDER_USERS=1: the IdP is not running)
#   DIR/conf/lmConf-N.json   from lmConf.json.in, with N one above the last one, written only
#                            when the configuration changed (a running IdP then reloads it);
#                            prints N when it wrote one.
# Input (environment): IDP_DIR, IDP_URL, IDP_NAMEID (LemonLDAP NameID format name),
# IDP_LOGLEVEL, RENDER_USERS; DIR/idp-signing.{key,crt}; DIR/sp-metadata.xml (optional).
use strict;
use warnings;
use DBI;
use File::Basename qw(dirname);
use JSON::PP ();

my $templates = dirname(__FILE__);
my $dir = $ENV{IDP_DIR};

sub read_file {
    my ($path) = @_;
    open my $in, '<:encoding(UTF-8)', $path or die "$path: $!\n";
    local $/;
    return scalar <$in>;
}

sub write_file {
    my ( $path, $text ) = @_;
    open my $out, '>:encoding(UTF-8)', "$path.tmp" or die "$path.tmp: $!\n";
    print {$out} $text;
    close $out or die "$path.tmp: $!\n";
    rename "$path.tmp", $path or die "$path: $!\n";
}

my $sp_xml = -s "$dir/sp-metadata.xml" ? read_file("$dir/sp-metadata.xml") : '';
my %values = (
    DIR              => $dir,
    URL              => $ENV{IDP_URL},
    LOGLEVEL         => $ENV{IDP_LOGLEVEL},
    NAMEID_FORMAT    => $ENV{IDP_NAMEID},
    SIGNING_KEY_PEM  => read_file("$dir/idp-signing.key"),
    SIGNING_CERT_PEM => read_file("$dir/idp-signing.crt"),
    SP_METADATA_XML  => $sp_xml,
    # the IdP requires signed AuthnRequests/LogoutRequests when the SP's metadata says it signs them
    SP_SIGNS_REQUESTS => $sp_xml =~ /\bAuthnRequestsSigned\s*=\s*["'](?:true|1)["']/ ? 1 : 0,
);

sub fill {
    my ($text) = @_;
    $text =~ s/\@([A-Z_]+)\@/exists $values{$1} ? $values{$1} : die "unknown placeholder \@$1\@\n"/ge;
    return $text;
}

sub fill_tree {
    my ($node) = @_;
    return { map { $_ => fill_tree( $node->{$_} ) } keys %$node } if ref $node eq 'HASH';
    return [ map { fill_tree($_) } @$node ] if ref $node eq 'ARRAY';
    return ref $node || !defined $node ? $node : fill($node);
}

write_file( "$dir/lemonldap-ng.ini", fill( read_file("$templates/lemonldap-ng.ini.in") ) );

if ( $ENV{RENDER_USERS} ) {
    unlink "$dir/users.db";
    my $db = DBI->connect( "dbi:SQLite:dbname=$dir/users.db", '', '', { RaiseError => 1, PrintError => 0 } );
    my $sql = read_file("$templates/users.sql") =~ s/^\s*--.*$//mgr;
    $db->do($_) for grep { /\S/ } split /;\s*$/m, $sql;
    $db->disconnect;
}

my $json = JSON::PP->new->canonical->pretty;
my $conf = fill_tree( $json->decode( read_file("$templates/lmConf.json.in") ) );
if ( !$sp_xml ) {    # no SP registered yet: the IdP serves its metadata, refuses AuthnRequests
    $conf->{$_} = {} for grep { /^samlSPMetaData/ } keys %$conf;
}
my ($last) = sort { $b <=> $a } map { /lmConf-(\d+)\.json$/ ? $1 : () } glob "$dir/conf/lmConf-*.json";
if ($last) {
    my $previous = $json->decode( read_file("$dir/conf/lmConf-$last.json") );
    delete @$previous{qw(cfgNum cfgDate)};
    exit 0 if $json->encode($previous) eq $json->encode($conf);
}
my $number = ( $last // 0 ) + 1;
@$conf{qw(cfgNum cfgDate)} = ( $number, time );
write_file( "$dir/conf/lmConf-$number.json", $json->encode($conf) );
print $number;
